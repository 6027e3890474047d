// MountedFiles: how an embedder serves a directory beside its own routes: the
// files of EXAMPLE_STATIC_ROOT under /static, and every other path (and every
// name not found there) answered by the example's routes. The directory and
// /etc/mime.types are opened once, before the workers fork.
import Glibc
import Server
import StaticFiles

enum MountedFiles {
    /// The directory named by EXAMPLE_STATIC_ROOT, opened; nil when the variable is not set.
    /// A directory that cannot be opened ends the program with one line on stderr.
    static func openRoot() -> (root: RootDirectory, types: ContentTypes)? {
        guard let path = getenv("EXAMPLE_STATIC_ROOT").map({ String(cString: $0) }) else { return nil }
        do {
            return (try RootDirectory(path: path), ContentTypes.system())
        } catch {
            var line = "example-server: EXAMPLE_STATIC_ROOT \(path): \(error.reason)\n"
            line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
            exit(1)
        }
    }

    /// `routes` behind the files mounted at /static, when there are files to serve.
    static func handler(_ files: (root: RootDirectory, types: ContentTypes)?, in routes: any HTTPHandler) -> any HTTPHandler {
        guard let files else { return routes }
        return StaticFileHandler(root: files.root, contentTypes: files.types, mountedAt: "/static", next: routes)
    }
}
