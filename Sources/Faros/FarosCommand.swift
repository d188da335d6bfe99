import ArgumentParser

/// `faros`: the Faros server. `serve` (the default) runs it.
@main
struct FarosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faros",
        abstract: "Faros: a realtime task-collaboration server (JSON-RPC 2.0 over WebSocket).",
        discussion: """
            Every setting is a flag and an environment variable (--foo-bar <-> FAROS_FOO_BAR); the flag wins.
            """,
        subcommands: [ServeCommand.self, MigrateCommand.self, ImportCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
