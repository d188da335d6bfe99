public import Handlers

/// ``OneTimeToken`` as the domain's ``Handlers/OneTimeTokens`` port.
public struct OneTimeTokenIssuer: OneTimeTokens {
    public init() {}

    public func generate() -> (token: String, hash: String) { OneTimeToken.generate() }

    public func hash(_ token: String) -> String { OneTimeToken.hash(token) }
}
