import JSONRPC

/// Field errors gathered across a params object, so one -32602 names every field at fault, in
/// params order (protocol/README.md, "Params").
struct FieldErrors {
    private(set) var list: [RPCError.FieldError] = []

    mutating func add(_ field: String, _ message: String) {
        list.append(.init(field: field, message: message))
    }

    /// The body's result, or nil after recording its field errors.
    @discardableResult
    mutating func check<T>(_ body: () throws(RPCError) -> T) -> T? {
        do {
            return try body()
        } catch {
            let fields = error.fieldErrors
            list.append(contentsOf: fields.isEmpty ? [.init(field: "params", message: error.message)] : fields)
            return nil
        }
    }

    /// Throws one -32602 listing every recorded error, if any.
    func throwIfAny() throws(RPCError) {
        if !list.isEmpty { throw .invalidParams(list) }
    }
}
