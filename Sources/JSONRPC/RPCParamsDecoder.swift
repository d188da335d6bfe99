public import JSON

/// Decodes a method's params (a ``JSONValue``) into a `Decodable` type, reporting every problem
/// as -32602 with dotted field paths.
///
/// The messages are the ones clients see in `data.errors`: "is required", "must not be null",
/// "must be a string", "must be an integer", "must be a number", "must be a boolean",
/// "must be an object", "must be an array", "is out of range", "must be one of: a, b"
/// (``RPCParamEnum``), "is duplicated" (a repeated member name), "has an invalid value"
/// (a `DecodingError.dataCorrupted` thrown by a type's own `init(from:)`), and "is unknown".
///
/// **Unknown fields.** Unknown params are rejected naming the field (protocol/README.md, "Params").
/// After a successful decode, every member of every object the type opened a keyed container on,
/// but never asked for (`decode`, `decodeIfPresent`, `decodeNil`, `contains`, a nested container),
/// is reported. When decoding fails, members that no key type used on that object recognizes are
/// reported next to the failure, so a misspelt `titel` shows up beside "title: is required". An
/// object the type never opened (such as a struct with no stored properties) counts all its members
/// as unknown. ``JSONValue`` fields take any JSON and are not examined.
///
/// **Null.** `T?` fields read `null` as absent, as Swift's decoders do; `Nullable<T>?` tells
/// absent, `null` and a value apart.
///
/// **Numbers.** Integers must be integral (`1.0` and `1e2` are; `1.5` is not) and in the target
/// type's range; `Double` accepts any number within its finite range.
public struct RPCParamsDecoder: Sendable {
    public init() {}

    /// Decodes `value` as a `T`.
    ///
    /// - Throws: ``RPCError`` -32602 listing every field at fault; a type's own non-decoding
    ///   error becomes ``RPCError/Code/internalError`` with the error as `underlying`.
    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(RPCError) -> T {
        let state = ParamsDecodingState()
        let result: T
        do {
            result = try state.decodeValue(T.self, from: value, path: [])
        } catch let error as RPCError {
            guard error.code == .invalidParams else { throw error }
            throw state.merged(error.fieldErrors, root: value, rootType: T.self, keeping: error)
        } catch let error as DecodingError {
            throw state.merged([state.fieldError(for: error)], root: value, rootType: T.self, keeping: nil)
        } catch let error as any RPCErrorConvertible {
            throw error.rpcError
        } catch {
            throw RPCError.internalError(underlying: error)
        }
        let unknown = state.unknownFields(afterSuccess: true, root: value, rootType: T.self)
        if !unknown.isEmpty { throw RPCError.invalidParams(unknown) }
        return result
    }
}
