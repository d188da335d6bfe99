extension StoreConfiguration {
    /// Checks the settings (the database URL above all) as opening the store would, without
    /// opening anything: the entry point of the fuzz package (Fuzz/) into the URL parsers.
    public func validate() throws(StoreSetupError) {
        _ = try DatabaseLocation(self)
    }
}
