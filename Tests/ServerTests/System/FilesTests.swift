// Files.writeAtomically in a directory others can write to (where pid files
// often live): a name planted in advance is neither followed nor reused.
import Foundation
import Glibc
import XCTest

@testable import Server

final class FilesTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "files-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func entries() throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: directory))
    }

    /// The name the temporary file used to have (`PATH.tmp.PID`) is known in advance:
    /// a link planted there must not make the writer open the file it points to.
    func testALinkPlantedAtAPredictableTemporaryNameIsNotFollowed() throws {
        let victim = directory + "/victim"
        try "precious\n".write(toFile: victim, atomically: false, encoding: .utf8)
        let path = directory + "/server.pid"
        XCTAssertEqual(symlink(victim, "\(path).tmp.\(getpid())"), 0)

        try Files.writeAtomically(path, "4242\n")

        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "precious\n", "the victim is untouched")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "4242\n")
        var status = stat()
        XCTAssertEqual(lstat(path, &status), 0)
        XCTAssertEqual(status.st_mode & S_IFMT, S_IFREG, "the file is a regular file, not the link")
        XCTAssertEqual(status.st_mode & 0o777, 0o644, "readable by everyone, as a pid file is")
        XCTAssertEqual(try entries(), ["victim", "server.pid", "server.pid.tmp.\(getpid())"],
                       "the planted link is left alone and no temporary file remains")
    }

    func testTheTemporaryFileIsRemovedWhenTheRenameFails() throws {
        // rename(2) of a file over a directory fails with EISDIR.
        let path = directory + "/server.pid"
        try FileManager.default.createDirectory(atPath: path + "/occupied", withIntermediateDirectories: true)
        XCTAssertThrowsError(try Files.writeAtomically(path, "4242\n")) { error in
            XCTAssertTrue("\(error)".hasPrefix("rename("), "\(error)")
        }
        XCTAssertEqual(try entries(), ["server.pid"], "no temporary file is left behind")
    }

    func testAStaleTemporaryFileDoesNotStopTheWrite() throws {
        let path = directory + "/server.pid"
        try "stale\n".write(toFile: "\(path).tmp.\(getpid())", atomically: false, encoding: .utf8)
        try "1\n".write(toFile: path, atomically: false, encoding: .utf8)
        try Files.writeAtomically(path, "4242\n")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "4242\n", "the old contents are replaced")
    }
}
