/// Every schema step this build knows, oldest first.
package enum Migrations {
    package static let all: [Migration] = [
        .accountsAndTasks,
        .collaboration,
        .audienceSets,
        .avatars,
        .notifications,
        .tagPageOrder,
        .commentRedaction,
        .mailSenders,
        .webPush,
        .searchIndex,
        .importMap,
    ]
}
