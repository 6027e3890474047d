// FuzzBounds: what the driver and one connection may hold between two calls
// into the driver, from the request limits and the driver's own constants
// (ConnectionDriver: readSize, queuedOutputBound; ChunkedBody: the framing and
// chunk-line bounds). Memory a client can make the worker keep must not grow
// with what it sends, only with what the limits allow.

import HTTP1
import ServerSystem

struct FuzzBounds {
    /// The most bytes of one unfinished request the parser lets the input hold before it
    /// refuses the request: a head, the body, its chunk framing, a chunk line, trailers.
    let request: Int
    /// The most a connection's own output may hold: the responses queued up to the bound,
    /// one more that crosses it, and a 100 Continue and an error response (their heads are small).
    let output: Int

    init(limits: RequestLimits, largestResponseBody: Int) {
        let head = limits.maxHeaderBytes
        request = head + limits.maxBodyBytes + ChunkedBody.maxFramingBytes(limits) + ChunkedBody.maxChunkLineBytes
            + head + 64
        output = ConnectionDriver.queuedOutputBound + largestResponseBody + 1024
    }

    func check(_ driver: ConnectionDriver, _ connection: Connection<Socket>) {
        // The shared buffers serve every connection in turn: nothing may stay in them,
        // or it would reach the next connection, and a spike must not leave them grown.
        checkShared(driver.scratchInput, "input")
        checkShared(driver.scratchOutput, "output")
        if let input = connection.input {
            // Only requests held back at the output bound may be more than one partial request,
            // and they were read in one turn after it: at most one read more.
            let most = connection.requestsDeferred ? request + ConnectionDriver.readSize : request
            fuzzAssert(!input.isEmpty, "an empty input buffer kept: an idle connection must hold none")
            fuzzAssert(input.readableCount <= most, "the input holds \(input.readableCount) bytes, over \(most)")
            // Grown by doubling, at most to twice what a request and a read need; the growth
            // is given back once it holds at most half a read (ConnectionDriver.keepLeftover).
            fuzzAssert(input.capacity <= 2 * (request + ConnectionDriver.readSize), "a \(input.capacity)-byte input buffer")
            fuzzAssert(input.capacity <= ConnectionDriver.readSize || input.readableCount > ConnectionDriver.readSize / 2,
                       "a \(input.capacity)-byte input buffer kept for \(input.readableCount) bytes")
        }
        if let output = connection.output {
            fuzzAssert(!output.isEmpty, "an empty output buffer kept")
            fuzzAssert(output.readableCount <= self.output, "\(output.readableCount) bytes of output held, over \(self.output)")
            // Made once, by copying what the socket did not take; never appended to.
            fuzzAssert(output.capacity <= self.output, "a \(output.capacity)-byte output buffer")
        }
    }

    private func checkShared(_ buffer: ByteBuffer, _ name: String) {
        fuzzAssert(buffer.isEmpty, "the shared \(name) buffer still holds \(buffer.readableCount) bytes")
        fuzzAssert(buffer.capacity == ConnectionDriver.readSize, "the shared \(name) buffer has \(buffer.capacity) bytes")
    }
}
