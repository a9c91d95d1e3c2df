import Foundation
import Testing

/// Tags for the suites that need something besides the package, or take long, so a contributor can
/// run the rest: `HEALTHSCORE_SKIP_TAGS=postgres,jvm swift test` leaves those out (each skipped test
/// says why). CI sets nothing, so it runs everything, as the README's test command does.
extension Tag {
    /// A PostgreSQL server started from the Debian binaries (.ci/setup-tests installs them).
    @Tag public static var postgres: Self
    /// DuckDB through the test venv's Python package.
    @Tag public static var duckdb: Self
    /// A Java runtime (PMML checked by pypmml/JPMML in the test venv).
    @Tag public static var jvm: Self
    /// onnxruntime in the test venv.
    @Tag public static var onnxruntime: Self
    /// Headless Chromium.
    @Tag public static var chromium: Self
    /// Suites that take a minute or more on two cores (kill loops, the notebooks, slow-client timing).
    @Tag public static var slow: Self
}

public enum TagSelection {
    /// The tags named in `HEALTHSCORE_SKIP_TAGS` (comma-separated).
    public static let skipped: Set<String> = Set(
        (ProcessInfo.processInfo.environment["HEALTHSCORE_SKIP_TAGS"] ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })

    /// A tag's name as written in `HEALTHSCORE_SKIP_TAGS` (`.postgres` → `postgres`).
    public static func name(_ tag: Tag) -> String {
        let text = "\(tag)"
        return text.hasPrefix(".") ? String(text.dropFirst()) : text
    }

    /// The condition for a suite or test tagged `tags`: it runs unless one of them is skipped.
    public static func unlessSkipped(_ tags: Tag...) -> ConditionTrait {
        let hit = tags.map(name).filter(skipped.contains)
        return .enabled(if: hit.isEmpty, "HEALTHSCORE_SKIP_TAGS skips \(hit.joined(separator: ", "))")
    }
}
