/// The browser side as compiled into the binary: `web/` files, each linked from
/// `Sources/WebApp/Embedded/` (named by its path, `/` written `__`) and embedded at build time,
/// so a copied binary still serves them. Written by `scripts/embed-web`; `WebAppTests` fails when
/// a file under `web/app/` (or the client library) is missing here or differs from the disk.
public enum EmbeddedFiles {
    public static let all: [WebFile] = [
        WebFile(path: "app/dom.js", bytes: PackageResources.app__dom_js),
        WebFile(path: "app/index.html", bytes: PackageResources.app__index_html),
        WebFile(path: "app/main.js", bytes: PackageResources.app__main_js),
        WebFile(path: "app/net.js", bytes: PackageResources.app__net_js),
        WebFile(path: "app/push.js", bytes: PackageResources.app__push_js),
        WebFile(path: "app/styles.css", bytes: PackageResources.app__styles_css),
        WebFile(path: "app/sw.js", bytes: PackageResources.app__sw_js),
        WebFile(path: "app/ui.js", bytes: PackageResources.app__ui_js),
        WebFile(path: "app/views/auth.js", bytes: PackageResources.app__views__auth_js),
        WebFile(path: "app/views/comments.js", bytes: PackageResources.app__views__comments_js),
        WebFile(path: "app/views/devices.js", bytes: PackageResources.app__views__devices_js),
        WebFile(path: "app/views/files.js", bytes: PackageResources.app__views__files_js),
        WebFile(path: "app/views/presence.js", bytes: PackageResources.app__views__presence_js),
        WebFile(path: "app/views/profile.js", bytes: PackageResources.app__views__profile_js),
        WebFile(path: "app/views/settings.js", bytes: PackageResources.app__views__settings_js),
        WebFile(path: "app/views/share.js", bytes: PackageResources.app__views__share_js),
        WebFile(path: "app/views/task.js", bytes: PackageResources.app__views__task_js),
        WebFile(path: "app/views/tasks.js", bytes: PackageResources.app__views__tasks_js),
        WebFile(path: "client/faros.d.ts", bytes: PackageResources.client__faros_d_ts),
        WebFile(path: "client/faros.js", bytes: PackageResources.client__faros_js),
    ]
}
