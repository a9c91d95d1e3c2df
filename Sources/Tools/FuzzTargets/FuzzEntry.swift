import CFuzzerEntry
import FuzzHarness
import Foundation

// Built two ways (see .ci/fuzz):
// - with `-sanitize=fuzzer,address -D FUZZING`: libFuzzer's driver runs and calls the two C entry
//   points below; the target is chosen by HEALTHSCORE_FUZZ_TARGET, since libFuzzer owns argv.
// - plainly (what `swift build` does): a `main` that replays saved inputs through the same target, to
//   reproduce a crash without the fuzzer toolchain: `healthscore-fuzz csv crash-123 Tests/Fuzz/corpus/csv`.

#if FUZZING

nonisolated(unsafe) private var selected: FuzzTarget?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>?,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32 {
    let name = ProcessInfo.processInfo.environment["HEALTHSCORE_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("set HEALTHSCORE_FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(2)
    }
    selected = target
    return 0
}

/// SwiftPM links an executable with `main` aliased to this symbol (which overrides the `main` in
/// libFuzzer's archive), so it hands over to libFuzzer's driver.
@_cdecl("FuzzTargets_main")
public func fuzzTargetsMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    healthscore_fuzzer_run(argc, argv)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do {
        try selected!.run(input)
    } catch {
        // A trap, so libFuzzer records the input as a crash.
        fatalError("\(error)")
    }
    return 0
}

#else

@main
struct Replay {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        guard let name = args.first, let target = FuzzTarget(rawValue: name), args.count > 1 else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
            print("usage: healthscore-fuzz \(names) FILE|DIR ...  (replays inputs; see .ci/fuzz for fuzzing)")
            exit(2)
        }
        var failed = 0
        var count = 0
        for file in inputFiles(Array(args.dropFirst())) {
            count += 1
            guard let data = FileManager.default.contents(atPath: file) else {
                print("\(file): cannot read"); failed += 1; continue
            }
            do { try target.run(Array(data)) } catch {
                print("\(file): \(error)"); failed += 1
            }
        }
        print("\(target.rawValue): \(count) inputs, \(failed) failed")
        exit(failed == 0 ? 0 : 1)
    }

    /// Files as given, directories expanded to their files (sorted, so runs are repeatable).
    static func inputFiles(_ paths: [String]) -> [String] {
        var out: [String] = []
        for p in paths {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: p, isDirectory: &isDir), isDir.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: p)) ?? []
                out += names.sorted().filter { !$0.hasPrefix(".") }.map { "\(p)/\($0)" }
            } else {
                out.append(p)
            }
        }
        return out
    }
}

#endif
