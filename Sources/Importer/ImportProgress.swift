#if canImport(Glibc)
import Glibc
#endif

/// What the import shows while it runs, on standard error: a bar redrawn in place on a
/// terminal, plain lines otherwise (a log, CI), or nothing.
package final class ImportProgress: @unchecked Sendable {
    package enum Mode: String, Sendable, CaseIterable {
        /// A bar when standard error is a terminal, else lines every few seconds.
        case auto
        case bar
        /// One line per batch.
        case lines
        case none
    }

    private let mode: Mode
    private let interval: Duration
    private var totals: [ImportKind: Int] = [:]
    private var counts: [ImportKind: Int] = [:]
    private var started = ContinuousClock.now
    private var lastShown = ContinuousClock.now - .seconds(60)
    private var rows = 0
    private var barShown = false
    /// What the last line said, so a kind's end does not repeat its last batch's line.
    private var lastLine: (kind: ImportKind, count: Int)?

    package init(mode: Mode) {
        switch mode {
        case .auto:
            self.mode = isatty(2) == 1 ? .bar : .lines
            self.interval = isatty(2) == 1 ? .milliseconds(100) : .seconds(5)
        case .bar:
            self.mode = .bar
            self.interval = .milliseconds(100)
        case .lines:
            self.mode = .lines
            self.interval = .zero
        case .none:
            self.mode = .none
            self.interval = .zero
        }
    }

    func start(totals: [ImportKind: Int]) {
        self.totals = totals
        started = .now
    }

    func advance(_ kind: ImportKind, by count: Int, rows: Int) {
        counts[kind, default: 0] += count
        self.rows = rows
        guard mode != .none, ContinuousClock.now - lastShown >= interval else { return }
        show(kind)
    }

    func finish(_ kind: ImportKind) {
        guard mode != .none else { return }
        if mode == .bar || lastLine?.kind != kind || lastLine?.count != counts[kind, default: 0] { show(kind) }
        if mode == .bar {
            Self.emit("\n")
            barShown = false
        }
    }

    func end() {
        if barShown { Self.emit("\n") }
    }

    private func show(_ kind: ImportKind) {
        lastShown = .now
        let count = counts[kind, default: 0]
        lastLine = (kind, count)
        let total = max(totals[kind, default: 0], count)
        let elapsed = FarosImporter.seconds(ContinuousClock.now - started)
        let rate = elapsed > 0 ? Int(Double(rows) / elapsed) : 0
        let counts = "\(kind.plural) \(Self.grouped(count))/\(Self.grouped(total)) (\(Self.grouped(rate)) rows/s)"
        switch mode {
        case .bar:
            let width = 30
            let filled = total == 0 ? width : min(width, count * width / total)
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            Self.emit("\r\u{1B}[2Kfaros import: [\(bar)] \(counts)")
            barShown = true
        case .lines:
            Self.emit("faros import: \(counts)\n")
        case .auto, .none:
            break
        }
    }

    /// Writes straight to standard error (unbuffered, so a line is out before a kill).
    package static func emit(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    /// `12345` as `12,345`.
    static func grouped(_ value: Int) -> String {
        let digits = String(abs(value))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return (value < 0 ? "-" : "") + out
    }
}
