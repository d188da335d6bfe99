public import JSONRPC

extension Domain {
    /// Every domain method, ready for the server's engine. Each area adds its own
    /// `register(in:domain:)` call here.
    public func registry() -> MethodRegistry<ClientSession> {
        var registry = MethodRegistry<ClientSession>()
        AuthMethods.register(in: &registry, domain: self)
        TaskMethods.register(in: &registry, domain: self)
        ShareMethods.register(in: &registry, domain: self)
        CommentMethods.register(in: &registry, domain: self)
        FileMethods.register(in: &registry, domain: self)
        ActivityMethods.register(in: &registry, domain: self)
        EventMethods.register(in: &registry, domain: self)
        NotificationMethods.register(in: &registry, domain: self)
        PresenceMethods.register(in: &registry, domain: self)
        PushMethods.register(in: &registry, domain: self)
        return registry
    }
}
