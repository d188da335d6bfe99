/// Every schema step this build knows, oldest first.
enum Migrations {
    static let all: [Migration] = [
        .accountsAndTasks,
    ]
}
