import Foundation
import Support
import Testing
import Report
import ScoringCore
import TestSupport
import Tabular
import Training

/// The report is one self-contained page with every section; headless Chromium renders it to a PNG
/// that is not blank.
@Suite struct HTMLReportTests {
    static func mlcReport() throws -> (html: String, dir: URL) {
        let dir = Fixtures.temporaryDirectory()
        let modelPath = dir.appendingPathComponent("mlc.json").path
        var clock = Timings()
        let model = try FitPipeline.fit(FitSpec(roles: ColumnRoles(target: "churn")), .file(Fixtures.dataset("mlc_churn.csv")), timings: &clock).model
        try AtomicFile.write(try model.encoded(), to: modelPath)
        return (try HTMLReport.build(modelPath: modelPath, dataPath: Fixtures.dataset("mlc_churn.csv")), dir)
    }

    @Test func selfContainedWithEverySection() throws {
        let (html, _) = try Self.mlcReport()
        for id in ["overview", "summary", "weights", "ranking", "calibration", "lift", "bands", "at-risk"] {
            #expect(html.contains("<section id=\"\(id)\">"), "missing section \(id)")
        }
        // No network, no scripts: nothing is fetched when the page opens.
        #expect(!html.contains("http://") || html.components(separatedBy: "http://").dropFirst().allSatisfy { $0.hasPrefix("www.w3.org/2000/svg") })
        #expect(!html.contains("https://") && !html.contains("<script"))
        #expect(html.contains("AUC 0.841"))  // the in-sample AUC of R's model, pROC 0.841073
        #expect(html.components(separatedBy: "<svg").count >= 10)
        #expect(html.contains("prefers-color-scheme: dark") && html.contains("@media print"))
    }

    @Test(.tags(.chromium), TagSelection.unlessSkipped(.chromium)) func chromiumRendersANonBlankPage() throws {
        let (html, dir) = try Self.mlcReport()
        let page = dir.appendingPathComponent("report.html")
        try Data(html.utf8).write(to: page)
        let png = dir.appendingPathComponent("report.png")
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile) else {
            Issue.record("headless Chromium is not installed: run .ci/setup (Debian package chromium)")
            return
        }
        let run = { (args: [String]) throws -> (Int32, Data) in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: chromium)
            p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(dir.appendingPathComponent("profile").path)"] + args
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, data)
        }
        let (status, _) = try run(["--window-size=1200,2400", "--screenshot=\(png.path)", page.absoluteString])
        #expect(status == 0)
        let bytes = try Data(contentsOf: png)
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        // Not blank: the decoded pixels are far from one flat colour (PNG decoded with Python's zlib).
        let share = try Self.nonBackgroundShare(png)
        #expect(share > 0.02, "only \(share) of the pixels differ from the background")
        // The rendered DOM has the sections (Chromium parsed the page, not just the file on disk).
        let (_, dom) = try run(["--dump-dom", page.absoluteString])
        let text = String(decoding: dom, as: UTF8.self)
        for id in ["weights", "ranking", "calibration", "bands", "at-risk"] { #expect(text.contains("id=\"\(id)\"")) }
    }

    /// Share of pixels that differ from the most common colour, by decoding the PNG's scanlines.
    static func nonBackgroundShare(_ png: URL) throws -> Double {
        let script = """
        import sys, zlib, struct, collections
        data = open(sys.argv[1], 'rb').read()
        pos, idat, w, h, ct = 8, b'', 0, 0, 0
        while pos < len(data):
            n, kind = struct.unpack('>I4s', data[pos:pos+8]); body = data[pos+8:pos+8+n]; pos += 12 + n
            if kind == b'IHDR': w, h, depth, ct = struct.unpack('>IIBB', body[:10])
            elif kind == b'IDAT': idat += body
        bpp = {2: 3, 6: 4}[ct]; raw = zlib.decompress(idat); stride = w * bpp
        prev, rows, i = bytearray(stride), [], 0
        for _ in range(h):
            f = raw[i]; line = bytearray(raw[i+1:i+1+stride]); i += 1 + stride
            for x in range(stride):
                a = line[x-bpp] if x >= bpp else 0; b = prev[x]; c = prev[x-bpp] if x >= bpp else 0
                if f == 1: line[x] = (line[x] + a) & 255
                elif f == 2: line[x] = (line[x] + b) & 255
                elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
                elif f == 4:
                    p = a + b - c; pa, pb, pc = abs(p-a), abs(p-b), abs(p-c)
                    line[x] = (line[x] + (a if pa <= pb and pa <= pc else (b if pb <= pc else c))) & 255
            rows.append(bytes(line)); prev = line
        px = collections.Counter(r[x:x+3] for r in rows[::4] for x in range(0, stride, bpp * 4))
        print(1 - px.most_common(1)[0][1] / sum(px.values()))
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, png.path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Double(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }
}
