import ByteCoding
import NIOHTTP1

/// The bridge's routes (README, "What it serves"), parsed from the method and path. Path ids are
/// positive decimal integers; anything else does not match.
enum RESTRoute: Equatable, Sendable {
    case health, ready, metrics, openRPC
    case taskFiles(taskID: Int64)
    case file(id: Int64)
    case myAvatar
    case avatar(userID: Int64)
    case verifyEmail
    case resetPassword
    case unsubscribe

    /// The route and its query, or nil for a path the bridge does not serve (404).
    static func match(path: String) -> RESTRoute? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        func id(_ text: Substring) -> Int64? {
            guard !text.isEmpty, text.count <= 18, text.first != "0", text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int64(text)
        }
        switch Array(parts) {
        case ["health"]: return .health
        case ["ready"]: return .ready
        case ["metrics"]: return .metrics
        case ["openrpc.json"]: return .openRPC
        case ["verify-email"]: return .verifyEmail
        case ["reset-password"]: return .resetPassword
        case ["unsubscribe"]: return .unsubscribe
        case ["users", "me", "avatar"]: return .myAvatar
        case let p where p.count == 3 && p[0] == "tasks" && p[2] == "files":
            return id(p[1]).map { .taskFiles(taskID: $0) } ?? nil
        case let p where p.count == 2 && p[0] == "files":
            return id(p[1]).map { .file(id: $0) } ?? nil
        case let p where p.count == 3 && p[0] == "users" && p[2] == "avatar":
            return id(p[1]).map { .avatar(userID: $0) } ?? nil
        default: return nil
        }
    }

    /// The methods each route answers (405 with `Allow` otherwise); OPTIONS is CORS preflight.
    var methods: [HTTPMethod] {
        switch self {
        case .health, .ready, .metrics, .openRPC, .avatar: return [.GET, .HEAD]
        case .taskFiles: return [.GET, .HEAD, .POST]
        case .file: return [.GET, .HEAD, .DELETE]
        case .myAvatar: return [.POST, .DELETE]
        case .verifyEmail, .resetPassword, .unsubscribe: return [.GET, .HEAD, .POST]
        }
    }

    /// The route template, the only path dimension metrics use (bounded).
    var template: String {
        switch self {
        case .health: return "/health"
        case .ready: return "/ready"
        case .metrics: return "/metrics"
        case .openRPC: return "/openrpc.json"
        case .taskFiles: return "/tasks/{id}/files"
        case .file: return "/files/{id}"
        case .myAvatar: return "/users/me/avatar"
        case .avatar: return "/users/{id}/avatar"
        case .verifyEmail: return "/verify-email"
        case .resetPassword: return "/reset-password"
        case .unsubscribe: return "/unsubscribe"
        }
    }
}

/// A request's query string as name → first value (percent- and `+`-decoded).
struct QueryString: Sendable {
    var values: [String: String] = [:]

    init(_ query: Substring?) {
        guard let query else { return }
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(kv[0]) else { continue }
            let value = kv.count > 1 ? Self.decode(kv[1]) : ""
            if values[name] == nil, let value { values[name] = value }
        }
    }

    subscript(name: String) -> String? { values[name] }

    /// `application/x-www-form-urlencoded` decoding; nil for bad escapes or invalid UTF-8.
    static func decode(_ text: Substring) -> String? {
        PercentEncoding.decodeUTF8(text, plusAsSpace: true)
    }
}
