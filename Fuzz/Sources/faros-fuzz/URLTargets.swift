import PubSub
import SMTPMail
import Storage

enum URLTargets {
    /// `--database-url`: SQLite paths and PostgreSQL URLs (libpq's own parser checks those).
    static func database(_ input: FuzzInput) {
        let text = input.text
        _ = try? StoreConfiguration(databaseURL: text, dataDirectory: "/tmp/faros-fuzz").validate()
    }

    /// `--redis-url`.
    static func redis(_ input: FuzzInput) {
        if let url = try? RedisURL(input.text) {
            _ = url.description
        }
    }

    /// `--smtp-url`.
    static func smtp(_ input: FuzzInput) {
        if let configuration = try? SMTPConfiguration(url: input.text) {
            _ = configuration.description
        }
    }
}
