extension RPCError {
    /// Any error as a client sees it: the one conversion every transport answers through.
    ///
    /// An ``RPCError`` stays as it is, an ``RPCErrorConvertible`` becomes its ``RPCErrorConvertible/rpcError``,
    /// and anything else becomes an internal error that reveals nothing. `report` is called once,
    /// with the original error, whenever the answer is an internal error, so that the caller logs
    /// it once with its method or route and request id.
    public static func boundary(_ error: any Error, report: (any Error) -> Void) -> RPCError {
        let converted: RPCError
        switch error {
        case let error as RPCError: converted = error
        case let error as any RPCErrorConvertible: converted = error.rpcError
        default: converted = .internalError(underlying: error)
        }
        if converted.code == .internalError { report(error) }
        return converted
    }
}
