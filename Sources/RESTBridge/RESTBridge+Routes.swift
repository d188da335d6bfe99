import BlobStore
import Handlers
import HTTPEdge
import JSON
import JSONRPC
import Logging
import NIOCore
import NIOHTTP1
import ProtocolDocument

/// What a route answers: a whole response, or the head of a download whose bytes stream from
/// the blob store afterwards.
enum RESTOutcome: Sendable {
    case response(RESTResponse)
    case stream(RESTResponse, key: String, offset: Int64, length: Int64)
}


extension RESTBridge {
    /// Any thrown error as the client sees it; internal ones are logged here, once.
    func rpcError(_ error: any Error, _ request: RESTRequest) -> RPCError {
        RPCError.boundary(error) { error in
            let metadata: Logger.Metadata = ["http.route": "\(request.route.template)", "ws.connection.id": "\(request.connectionID)"]
            logger.error("REST request failed", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            logger.debug("Internal error detail", metadata: metadata.merging(["error.detail": "\(String(reflecting: error))"]) { $1 })
        }
    }

    /// The signed-in user behind the bearer token; -32001 without one or for a bad one.
    func principal(_ request: RESTRequest) async throws -> Principal {
        guard case .some(let token) = request.bearerToken else {
            throw RPCError(.unauthenticated, message: "Authorization: Bearer token required")
        }
        guard let token, let principal = try await domain.principal(forBearer: token) else {
            throw RPCError(.unauthenticated, message: "Invalid or expired token")
        }
        return principal
    }

    /// Every route without a streamed request body.
    func answer(_ request: RESTRequest, body: ByteBuffer) async -> RESTOutcome {
        do {
            switch (request.route, request.method) {
            case (.health, _):
                return .response(.json(.ok, ["status": "ok"]))
            case (.ready, _):
                return .response(await ready())
            case (.metrics, _):
                runScrapeHooks()
                var response = RESTResponse(status: .ok, body: metricsRegistry?.emitToBuffer() ?? [])
                response.headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
                response.headers.add(name: "Cache-Control", value: "no-store")
                return .response(response)
            case (.openRPC, _):
                var response = RESTResponse(status: .ok, body: ProtocolDocument.openRPC)
                response.headers.add(name: "Content-Type", value: "application/json")
                response.headers.add(name: "Cache-Control", value: "no-cache")
                return .response(response)
            case (.taskFiles(let taskID), _):
                let principal = try await principal(request)
                let files = try await domain.files(taskID: taskID, userID: principal.userID)
                return .response(try .json(.ok, encoding: ["items": files]))
            case (.file(let id), .DELETE):
                let principal = try await principal(request)
                try await domain.deleteFile(id: id, userID: principal.userID)
                janitor.wake()
                return .response(.noContent)
            case (.file(let id), _):
                return try await download(request, fileID: id)
            case (.myAvatar, _):
                let principal = try await principal(request)
                try await domain.removeAvatar(userID: principal.userID)
                janitor.wake()
                return .response(.noContent)
            case (.avatar(let userID), _):
                return try await avatar(request, userID: userID)
            case (.verifyEmail, .POST):
                return .response(await verifyEmail(request, body: body))
            case (.verifyEmail, _):
                // Opening the link only asks, as for unsubscribing: a mail scanner that follows
                // it must not verify an address someone else registered. The button does.
                return .response(HTMLPages.verifyForm(token: request.query["token"] ?? ""))
            case (.resetPassword, .POST):
                return .response(await submitReset(request, body: body))
            case (.resetPassword, _):
                return .response(HTMLPages.resetForm(token: request.query["token"] ?? ""))
            case (.unsubscribe, .POST):
                return .response(await unsubscribe(request, body: body))
            case (.unsubscribe, _):
                // Opening the link only asks: mail scanners and link previews fetch links, and
                // must not unsubscribe anyone. The button (or a mail client's RFC 8058 POST) does.
                guard UnsubscribeLink.verified(request.query.values, signer: domain.signer) != nil else {
                    return .response(HTMLPages.message(status: .badRequest, title: "Link not valid", text: "This unsubscribe link is not valid."))
                }
                return .response(HTMLPages.unsubscribeForm(query: request.query.values))
            }
        } catch {
            return .response(.error(rpcError(error, request)))
        }
    }

    func ready() async -> RESTResponse {
        let components = await readiness.check()
        var object = JSONObject()
        for component in components {
            object.append(key: component.name, value: .string(component.problem ?? "ok"))
        }
        let healthy = components.allSatisfy { $0.problem == nil }
        var response = RESTResponse.json(healthy ? .ok : .serviceUnavailable, [
            "status": .string(healthy ? "ok" : "unavailable"), "components": .object(object),
        ])
        if !healthy { response.headers.add(name: "Retry-After", value: "5") }
        return response
    }

    /// `GET /files/{id}`: with `exp` and `sig` the signed link decides, else the bearer token.
    func download(_ request: RESTRequest, fileID: Int64) async throws -> RESTOutcome {
        let file: FileRecord
        if let exp = request.query["exp"], let sig = request.query["sig"] {
            guard let expires = Int64(exp) else { throw RPCError(.unauthenticated, message: "Invalid or expired download link") }
            file = try await domain.downloadableFile(id: fileID, expires: expires, signature: sig)
        } else {
            let principal = try await principal(request)
            file = try await domain.downloadableFile(id: fileID, userID: principal.userID)
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Disposition", value: ContentDisposition.attachment(filename: file.filename))
        headers.add(name: "Cache-Control", value: "private, no-cache")
        return try blobOutcome(request, key: file.storageKey, size: file.size, contentType: file.contentType,
                               etag: file.etag, headers: headers)
    }

    /// `GET /users/{id}/avatar`: public, cacheable; long-lived when the URL names the current
    /// version (`?v=<etag>`, as `avatarUrl` does).
    func avatar(_ request: RESTRequest, userID: Int64) async throws -> RESTOutcome {
        let avatar = try await domain.avatar(userID: userID)
        var headers = HTTPHeaders()
        let versioned = request.query["v"] == avatar.etag
        headers.add(name: "Cache-Control", value: versioned ? "public, max-age=31536000, immutable" : "public, no-cache")
        headers.add(name: "Content-Disposition", value: "inline")
        return try blobOutcome(request, key: avatar.storageKey, size: avatar.size, contentType: avatar.contentType,
                               etag: avatar.etag, headers: headers)
    }

    /// The answer for a stored blob: 304 for a matching `If-None-Match`, 416 for a range past
    /// the end, else 200 or 206 streaming the bytes.
    func blobOutcome(
        _ request: RESTRequest, key: String, size: Int64, contentType: String, etag: String, headers: HTTPHeaders
    ) throws -> RESTOutcome {
        var headers = headers
        headers.add(name: "ETag", value: etag)
        headers.add(name: "Accept-Ranges", value: "bytes")
        // A stored file is never to run as a page of ours, whatever a browser makes of it.
        headers.add(name: "Content-Security-Policy", value: "default-src 'none'; sandbox")
        if request.headers.ifNoneMatch(etag) {
            return .response(RESTResponse(status: .notModified, headers: headers))
        }
        headers.add(name: "Content-Type", value: contentType)
        // `If-Range` with another validator asks for the whole file.
        let rangeHeader = request.headers.first(name: "If-Range").map { $0 == etag } ?? true
            ? request.headers.first(name: "Range") : nil
        switch ByteRange.evaluate(rangeHeader, size: size) {
        case .whole:
            return .stream(RESTResponse(status: .ok, headers: headers), key: key, offset: 0, length: size)
        case .partial(let start, let end):
            headers.add(name: "Content-Range", value: "bytes \(start)-\(end)/\(size)")
            return .stream(RESTResponse(status: .partialContent, headers: headers), key: key, offset: start, length: end - start + 1)
        case .unsatisfiable:
            throw RPCError(.rangeNotSatisfiable, message: "Range not satisfiable", data: ["size": .number(JSONNumber(size))])
        }
    }

    /// `POST /verify-email`, from the page's button: the token comes in the form body (or, as
    /// the link has it, in the query).
    func verifyEmail(_ request: RESTRequest, body: ByteBuffer) async -> RESTResponse {
        let token = QueryString(Substring(String(buffer: body)))["token"] ?? request.query["token"] ?? ""
        do {
            try await domain.verifyEmail(token: token)
            return HTMLPages.message(title: "Email address verified", text: "Your email address is verified. You can close this page.")
        } catch {
            let rpc = rpcError(error, request)
            if rpc.code == .invalidParams {
                return HTMLPages.message(status: .badRequest, title: "Link not valid",
                                         text: "This verification link is wrong, expired or already used. Ask for a new verification mail in the app.")
            }
            return HTMLPages.message(status: HTTPErrorResponse.status(for: rpc.code), title: "Something went wrong", text: rpc.message)
        }
    }

    /// `POST /unsubscribe?u=…&k=…&s=…` (RFC 8058 one-click; the body `List-Unsubscribe=One-Click`
    /// is not needed, and the parameters may come in a form body too, from the page's button).
    func unsubscribe(_ request: RESTRequest, body: ByteBuffer) async -> RESTResponse {
        var parameters = request.query.values
        for (name, value) in QueryString(Substring(String(buffer: body))).values where parameters[name] == nil {
            parameters[name] = value
        }
        guard let link = UnsubscribeLink.verified(parameters, signer: domain.signer) else {
            return HTMLPages.message(status: .badRequest, title: "Link not valid", text: "This unsubscribe link is not valid.")
        }
        do {
            guard try await domain.unsubscribe(link) else {
                return HTMLPages.message(status: .notFound, title: "Account not found", text: "The account this link was for no longer exists.")
            }
            return HTMLPages.message(title: "Unsubscribed", text: "You will no longer get this kind of mail from Faros. You can turn it back on in the app's notification settings.")
        } catch {
            let rpc = rpcError(error, request)
            return HTMLPages.message(status: HTTPErrorResponse.status(for: rpc.code), title: "Something went wrong", text: rpc.message)
        }
    }

    func submitReset(_ request: RESTRequest, body: ByteBuffer) async -> RESTResponse {
        let form = QueryString(Substring(String(buffer: body)))
        let token = form["token"] ?? ""
        let password = form["newPassword"] ?? ""
        do {
            try await domain.resetPassword(token: token, newPassword: password)
            return HTMLPages.message(title: "Password changed", text: "Your password is changed and every session was signed out. Sign in with the new password.")
        } catch {
            let rpc = rpcError(error, request)
            if rpc.code == .invalidParams {
                let field = rpc.data?["errors"]?.arrayValue?.first?["field"]?.stringValue
                if field == "token" {
                    return HTMLPages.message(status: .badRequest, title: "Link not valid",
                                             text: "This reset link is wrong, expired or already used. Ask for a new one in the app.")
                }
                let reason = rpc.data?["errors"]?.arrayValue?.first?["message"]?.stringValue ?? rpc.message
                return HTMLPages.resetForm(token: token, problem: "The new password \(reason).", status: .badRequest)
            }
            return HTMLPages.message(status: HTTPErrorResponse.status(for: rpc.code), title: "Something went wrong", text: rpc.message)
        }
    }
}
