// TodoStore: the todos table, with the same schema and the same SQL as
// Examples/todos (TodoStore.swift there), through GRDB's async API so that no
// event-loop thread of Hummingbird's waits for SQLite.
import GRDB

struct Todo: Codable, Sendable {
    var id: Int64
    var title: String
}

// Every query is a cached prepared statement (one per SQLite connection), on both sides.
struct TodoStore: Sendable {
    static let schema = "CREATE TABLE IF NOT EXISTS todo (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL)"

    let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` in WAL mode (DatabasePool's own).
    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        pool = try DatabasePool(path: path, configuration: configuration)
        try pool.write { try $0.execute(sql: Self.schema) }
    }

    func create(title: String) async throws -> Todo {
        try await pool.write { db in
            try db.cachedStatement(sql: "INSERT INTO todo (title) VALUES (?)").execute(arguments: [title])
            return Todo(id: db.lastInsertedRowID, title: title)
        }
    }

    func all() async throws -> [Todo] {
        try await pool.read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT id, title FROM todo ORDER BY id")).map { Todo(id: $0["id"], title: $0["title"]) }
        }
    }

    func find(_ id: Int64) async throws -> Todo? {
        try await pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT id, title FROM todo WHERE id = ?"), arguments: [id])
                .map { Todo(id: $0["id"], title: $0["title"]) }
        }
    }

    /// Whether a row was deleted.
    func delete(_ id: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.cachedStatement(sql: "DELETE FROM todo WHERE id = ?").execute(arguments: [id])
            return db.changesCount > 0
        }
    }
}
