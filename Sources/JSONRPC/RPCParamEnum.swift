/// A string enumeration in params, such as `priority` (`low|medium|high`).
///
/// Adopting it (`enum Priority: String, RPCParamEnum`) turns an unknown value into the -32602
/// message "must be one of: low, medium, high" instead of a generic one.
public protocol RPCParamEnum: CaseIterable, RawRepresentable, Decodable where RawValue == String {}

extension RPCParamEnum {
    /// The accepted values, in declaration order.
    public static var allowedRawValues: [String] { allCases.map(\.rawValue) }
}
