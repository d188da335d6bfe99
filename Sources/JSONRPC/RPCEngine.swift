import JSON

/// The JSON-RPC 2.0 engine: parses a message, runs its calls through a ``MethodRegistry`` and
/// serializes the answer.
///
/// It does no I/O and keeps no state between messages, so one engine serves every session and
/// ``execute(_:context:admission:)`` may run for many messages at once. Within a batch, calls run
/// concurrently and the answer is one array in request order, sent once every member is done;
/// notifications never get an answer, not even an error.
///
/// Checks, in order, for each message:
/// 1. Not JSON (RFC 8259, nesting at most ``Configuration/maxDepth`` levels counting the
///    envelope): -32700, id null.
/// 2. An empty array: one -32600, id null. More than ``Configuration/maxBatch`` elements: one
///    -32013 with `data.limit`, id null, nothing run.
/// 3. Each request (or batch element): not an object, `jsonrpc` not `"2.0"`, `method` not a
///    string, `id` not a string, number or null, `params` neither object nor array, any other
///    member, or a repeated member: -32600, with the id when it could be read, else null. This is
///    answered even without an id, as the specification's examples do.
/// 4. `admission(method)` for every well-formed call, requests and notifications alike, in
///    request order, before the method is looked up (so rate limits count unknown methods too).
/// 5. Unknown method: -32601 (`rpc.`-prefixed names exist only when registered).
/// 6. Positional params: -32602 naming `params`; a repeated member name anywhere in params:
///    -32602 naming its dotted path.
/// 7. The handler. An ``RPCError`` (or ``RPCErrorConvertible``) it throws is answered as is;
///    anything else is answered -32603 "Internal error" and handed to
///    ``Configuration/errorReporter``, which also receives ``RPCError``s of code -32603.
/// 8. The answer's size: results are serialized in request order, and one that would take the
///    answer past the caller's `responseBudget` is answered -32013 with `data.limit` instead
///    (the call ran; only its result is withheld). Errors always go out.
public struct RPCEngine<Context: Sendable>: Sendable {
    public let registry: MethodRegistry<Context>
    public let configuration: Configuration

    public init(registry: MethodRegistry<Context>, configuration: Configuration = Configuration()) {
        precondition(configuration.maxBatch >= 1, "maxBatch must be at least 1")
        self.registry = registry
        self.configuration = configuration
    }

    // MARK: Parsing

    /// Parses and checks one message.
    public func parse(_ bytes: UnsafeRawBufferPointer) -> RPCIncoming {
        parse(bytes, utf8Validated: false)
    }

    /// Parses and checks one text message whose UTF-8 the WebSocket layer has validated, so
    /// the parser does not check it again.
    public func parse(validatedUTF8 bytes: UnsafeRawBufferPointer) -> RPCIncoming {
        parse(bytes, utf8Validated: true)
    }

    private func parse(_ bytes: UnsafeRawBufferPointer, utf8Validated: Bool) -> RPCIncoming {
        let parser = JSONParser(maxDepth: configuration.maxDepth)
        let value: JSONValue
        do {
            value = try utf8Validated ? parser.parse(validatedUTF8: bytes) : parser.parse(bytes)
        } catch {
            return RPCIncoming(.immediate(RPCError(.parseError)))
        }
        return check(value)
    }

    /// The envelope checks of a parsed message: one request, or a batch within the limit.
    private func check(_ value: JSONValue) -> RPCIncoming {
        guard case .array(let elements) = value else {
            return RPCIncoming(.single(Self.entry(for: value)))
        }
        guard !elements.isEmpty else {
            return RPCIncoming(.immediate(RPCError(.invalidRequest)))
        }
        guard elements.count <= configuration.maxBatch else {
            return RPCIncoming(.immediate(.tooLarge(limit: configuration.maxBatch)))
        }
        return RPCIncoming(.batch(elements.map(Self.entry(for:))))
    }

    /// Parses and checks one message.
    public func parse(_ bytes: [UInt8]) -> RPCIncoming {
        bytes.withUnsafeBytes { parse($0) }
    }

    /// Checks one request object against the envelope rules.
    static func entry(for value: JSONValue) -> RPCIncoming.Entry {
        guard case .object(let object) = value else {
            return .invalid(id: .null, error: RPCError(.invalidRequest))
        }
        var version: JSONValue?
        var method: JSONValue?
        var params: JSONValue?
        var idValue: JSONValue?
        var idCount = 0
        var wellFormed = true
        for member in object.members {
            switch member.key {
            case "jsonrpc":
                if version != nil { wellFormed = false }
                version = member.value
            case "method":
                if method != nil { wellFormed = false }
                method = member.value
            case "params":
                if params != nil { wellFormed = false }
                params = member.value
            case "id":
                idCount += 1
                idValue = member.value
            default:
                wellFormed = false
            }
        }
        // A repeated or ill-typed id cannot be echoed: the answer goes to id null.
        let id: RPCID? = idCount == 1 ? idValue.flatMap(RPCID.init) : nil
        if idCount > 1 || (idCount == 1 && id == nil) { wellFormed = false }
        guard wellFormed, version == .string("2.0"), case .string(let name)? = method else {
            return .invalid(id: id ?? .null, error: RPCError(.invalidRequest))
        }
        switch params {
        case nil, .object?, .array?: break
        default: return .invalid(id: id ?? .null, error: RPCError(.invalidRequest))
        }
        return .call(RPCIncoming.Call(id: id, method: name, params: params))
    }

    // MARK: Execution

    /// Runs a parsed message and returns the serialized answer, or nil when nothing is to be sent
    /// (a notification, or a batch of notifications only).
    ///
    /// - Parameters:
    ///   - context: passed to every handler.
    ///   - responseBudget: the most bytes the answer may take (a response, or a batch's whole
    ///     array); a result that would pass it is answered -32013 with `data.limit` instead, so
    ///     a small message cannot make the server send an unbounded amount.
    ///   - admission: consulted once per well-formed call, before dispatch; a non-nil error
    ///     answers that call instead of running it (per-session rate limits, authentication).
    public func execute(
        _ incoming: RPCIncoming,
        context: Context,
        responseBudget: Int = .max,
        admission: @Sendable (_ method: String) -> RPCError? = { _ in nil }
    ) async -> [UInt8]? {
        switch incoming.message {
        case .immediate(let error):
            var out: [UInt8] = []
            Self.writeResponse(id: .null, outcome: .failure(error), into: &out)
            return out
        case .single(.invalid(let id, let error)):
            var out: [UInt8] = []
            Self.writeResponse(id: id, outcome: .failure(error), into: &out)
            return out
        case .single(.call(let call)):
            let outcome = await run(call, refusal: admission(call.method), context: context)
            guard let id = call.id else { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(128)
            Self.writeResponse(id: id, outcome: outcome, into: &out, budget: responseBudget)
            return out
        case .batch(let entries):
            return await executeBatch(entries, context: context, responseBudget: responseBudget, admission: admission)
        }
    }

    /// Parses and runs one message; see ``parse(_:)-(UnsafeRawBufferPointer)`` and
    /// ``execute(_:context:admission:)``.
    public func handle(
        _ bytes: [UInt8],
        context: Context,
        admission: @Sendable (_ method: String) -> RPCError? = { _ in nil }
    ) async -> [UInt8]? {
        await execute(parse(bytes), context: context, admission: admission)
    }

    private func executeBatch(
        _ entries: [RPCIncoming.Entry],
        context: Context,
        responseBudget: Int,
        admission: @Sendable (String) -> RPCError?
    ) async -> [UInt8]? {
        var outcomes = [Result<JSONValue, RPCError>?](repeating: nil, count: entries.count)
        // Admission runs in request order before anything starts, so a rate limit that admits
        // only some calls admits the earliest ones.
        var runnable: [(index: Int, call: RPCIncoming.Call, refusal: RPCError?)] = []
        for (index, entry) in entries.enumerated() {
            switch entry {
            case .invalid(_, let error): outcomes[index] = .failure(error)
            case .call(let call): runnable.append((index, call, admission(call.method)))
            }
        }
        if runnable.count == 1 {
            let only = runnable[0]
            outcomes[only.index] = await run(only.call, refusal: only.refusal, context: context)
        } else if !runnable.isEmpty {
            await withTaskGroup(of: (Int, Result<JSONValue, RPCError>).self) { group in
                for item in runnable {
                    group.addTask {
                        (item.index, await self.run(item.call, refusal: item.refusal, context: context))
                    }
                }
                for await (index, outcome) in group { outcomes[index] = outcome }
            }
        }

        var out: [UInt8] = [UInt8(ascii: "[")]
        var answered = 0
        for (index, entry) in entries.enumerated() {
            let id: RPCID
            switch entry {
            case .invalid(let invalidID, _): id = invalidID
            case .call(let call):
                guard let callID = call.id else { continue }
                id = callID
            }
            if answered > 0 { out.append(UInt8(ascii: ",")) }
            answered += 1
            // One byte is kept for the closing bracket.
            Self.writeResponse(id: id, outcome: outcomes[index]!, into: &out, budget: responseBudget, reserving: 1)
        }
        guard answered > 0 else { return nil }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// Runs one well-formed call through steps 4 to 7.
    func run(_ call: RPCIncoming.Call, refusal: RPCError?, context: Context) async -> Result<JSONValue, RPCError> {
        if let refusal { return .failure(refusal) }
        guard let handler = registry.handler(for: call.method) else { return .failure(.methodNotFound) }
        if case .array? = call.params {
            return .failure(.invalidParams(field: "params", message: "must be an object (by name)"))
        }
        if let params = call.params, let path = Self.firstDuplicatePath(in: params) {
            return .failure(.invalidParams(field: path, message: "is duplicated"))
        }
        do {
            return .success(try await handler(call.params, context))
        } catch {
            return .failure(RPCError.boundary(error) { configuration.errorReporter(call.method, call.id, $0) })
        }
    }

    /// The dotted path of the first repeated member name in `value`, depth first.
    static func firstDuplicatePath(in value: JSONValue) -> String? {
        switch value {
        case .object(let object):
            if let key = object.duplicateKey { return key }
            for member in object.members {
                if let inner = firstDuplicatePath(in: member.value) { return member.key + "." + inner }
            }
            return nil
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                if let inner = firstDuplicatePath(in: element) { return String(index) + "." + inner }
            }
            return nil
        default:
            return nil
        }
    }

    // MARK: Serialization

    /// Appends the response for `outcome`, or -32013 with `data.limit` in place of a result that
    /// would leave `out` with fewer than `reserved` bytes under `budget`.
    static func writeResponse(
        id: RPCID, outcome: Result<JSONValue, RPCError>, into out: inout [UInt8], budget: Int, reserving reserved: Int = 0
    ) {
        let start = out.count
        writeResponse(id: id, outcome: outcome, into: &out)
        guard out.count > budget &- reserved, case .success = outcome else { return }
        out.removeSubrange(start...)
        writeResponse(id: id, outcome: .failure(.responseTooLarge(limit: budget)), into: &out)
    }

    /// Appends `{"jsonrpc":"2.0","id":…,"result":…}` or `{"jsonrpc":"2.0","id":…,"error":{…}}`.
    static func writeResponse(id: RPCID, outcome: Result<JSONValue, RPCError>, into out: inout [UInt8]) {
        JSONWriter.appendASCII(#"{"jsonrpc":"2.0","id":"#, to: &out)
        switch id {
        case .number(let n): JSONWriter.write(n, into: &out)
        case .string(let s): JSONWriter.write(s, into: &out)
        case .null: JSONWriter.appendASCII("null", to: &out)
        }
        switch outcome {
        case .success(let result):
            JSONWriter.appendASCII(#","result":"#, to: &out)
            JSONWriter.write(result, into: &out)
        case .failure(let error):
            JSONWriter.appendASCII(#","error":{"code":"#, to: &out)
            out.append(contentsOf: String(error.code.rawValue).utf8)
            JSONWriter.appendASCII(#","message":"#, to: &out)
            JSONWriter.write(error.message, into: &out)
            if let data = error.data {
                JSONWriter.appendASCII(#","data":"#, to: &out)
                JSONWriter.write(data, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "}"))
    }
}
