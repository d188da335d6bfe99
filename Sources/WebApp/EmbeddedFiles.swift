/// The browser side as compiled into the binary: `web/` files, each linked from
/// `Sources/WebApp/Embedded/` (named by its path, `/` written `__`) and embedded at build time,
/// so a copied binary still serves them. `WebAppTests` fails when a file under `web/app/` (or
/// the client library) is missing here or differs from the file on disk.
public enum EmbeddedFiles {
    public static let all: [WebFile] = [
        WebFile(path: "client/faros.js", bytes: PackageResources.client__faros_js),
        WebFile(path: "client/faros.d.ts", bytes: PackageResources.client__faros_d_ts),
    ]
}
