// TodoStore: the todos table through GRDB, with the same schema and SQL as the
// Hummingbird twin (benchmarks/peers/todos-hummingbird). Its calls block, so
// they run on the worker's handler pool, never on the event loop. A worker
// opens its own DatabasePool (WAL mode: readers and one writer at a time
// across every worker's process), with a busy timeout for the writer lock.
import GRDB
import Glibc
import Logging

struct Todo: Codable, Sendable {
    var id: Int64
    var title: String
}

// Every query is a cached prepared statement (one per SQLite connection), on both sides.
struct TodoStore: Sendable {
    static let schema = "CREATE TABLE IF NOT EXISTS todo (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL)"

    let pool: DatabasePool

    init(path: String) throws {
        var configuration = Configuration()
        // Workers write the same file: wait for another's write lock instead of failing (SQLITE_BUSY).
        configuration.busyMode = .timeout(5)
        pool = try DatabasePool(path: path, configuration: configuration)
        try pool.write { try $0.execute(sql: Self.schema) }
    }

    /// The store, or nil (logged) when the database cannot be opened: its routes then answer 503.
    /// Workers start together, and switching a new file to WAL mode or creating the table
    /// takes a lock the busy timeout does not always wait for (SQLite answers SQLITE_BUSY at
    /// once when waiting could deadlock), so a busy or locked database is tried again, for
    /// up to five seconds, before the worker gives up on it.
    static func open(path: String) -> TodoStore? {
        var attempts = 0
        while true {
            do {
                return try TodoStore(path: path)
            } catch let error as DatabaseError where [.SQLITE_BUSY, .SQLITE_LOCKED].contains(error.resultCode) && attempts < 50 {
                attempts += 1
                usleep(100_000)
            } catch {
                Logger(label: "example-service").error("cannot open the database \(path): \(error)")
                return nil
            }
        }
    }

    func create(title: String) throws -> Todo {
        try pool.write { db in
            try db.cachedStatement(sql: "INSERT INTO todo (title) VALUES (?)").execute(arguments: [title])
            return Todo(id: db.lastInsertedRowID, title: title)
        }
    }

    func all() throws -> [Todo] {
        try pool.read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT id, title FROM todo ORDER BY id")).map { Todo(id: $0["id"], title: $0["title"]) }
        }
    }

    func find(_ id: Int64) throws -> Todo? {
        try pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT id, title FROM todo WHERE id = ?"), arguments: [id])
                .map { Todo(id: $0["id"], title: $0["title"]) }
        }
    }

    /// Whether a row was deleted.
    func delete(_ id: Int64) throws -> Bool {
        try pool.write { db in
            try db.cachedStatement(sql: "DELETE FROM todo WHERE id = ?").execute(arguments: [id])
            return db.changesCount > 0
        }
    }
}
