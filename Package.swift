// swift-tools-version:6.1
import PackageDescription

// Sources/ is grouped by layer; ARCHITECTURE.md draws the arrows, and CoreIsolationTests checks
// every target's dependencies against it. In short, a layer may use the ones below it:
//   Tools       the programs: CLI, service, fuzz targets, and what they share
//   Judging     accuracy measures, scorecards, evaluation and comparison, the report
//   Production  batch scoring, exports, the score history, the HTTP service (never the numerics)
//   Fitting     BLAS/LAPACK solvers, the fit pipeline, distributed fits
//   Data        CSV and designs, the metric configuration, the simulator
//   Core        ScoringCore (what production embeds: pure Swift + Foundation) and Support (the leaf)
//   System      C shims: BLAS/LAPACK, OpenSSL's SHA-256, SQLite, MPI, the row kernels
// The main tool does not depend on Service, so its build needs no SwiftNIO.

/// Targets that compile in the Swift 6 language mode (strict concurrency checking) use it.
let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

/// A source target's folder: `Sources/<layer>/<target>`.
func source(_ layer: String, _ target: String) -> String { "Sources/\(layer)/\(target)" }

let package = Package(
    name: "healthscore",
    products: [
        .executable(name: "healthscore", targets: ["HealthScoreCLI"]),
        // The HTTP service, a program of its own: the main tool builds without SwiftNIO, and
        // `healthscore serve` runs this one (built once with `swift build -c release --product healthscore-serve`).
        .executable(name: "healthscore-serve", targets: ["HealthScoreServe"]),
        .library(name: "ScoringCore", targets: ["ScoringCore"]),
        // libFuzzer targets for the parsers (.ci/fuzz); a plain build gives a replayer of saved inputs.
        .executable(name: "healthscore-fuzz", targets: ["FuzzTargets"]),
    ],
    // `swift build --traits MPI` adds distributed fitting (`fit --distributed` under mpirun); it needs
    // Open MPI (libopenmpi-dev). The default build neither needs nor looks for mpi.h.
    traits: [
        .trait(name: "MPI", description: "Distributed fitting over MPI (Open MPI's libopenmpi-dev)."),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        // Already under Hummingbird; named for the service's connection deadline handler.
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.25.0"),
    ],
    targets: [
        // System: C libraries and shims.
        .systemLibrary(name: "CLapack", path: source("System", "CLapack"), providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(name: "CCrypto", path: source("System", "CCrypto"), providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", path: source("System", "CSQLite"), providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CMPI", path: source("System", "CMPI"), pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        // The per-row exp/log1p of a Newton pass, vectorised (C: per-function target attributes).
        .target(name: "CRowKernels", path: source("System", "CRowKernels")),
        .target(name: "CFuzzerEntry", path: source("System", "CFuzzerEntry")),

        // Core: the leaf every layer may use (Diagnostic, special functions, the PRNG),
        // and the scoring core production embeds.
        .target(name: "Support", path: source("Core", "Support"), swiftSettings: swift6),
        .target(name: "ScoringCore", dependencies: ["Support"], path: source("Core", "ScoringCore"), swiftSettings: swift6),

        // Data
        .target(name: "Tabular", dependencies: ["Support", "ScoringCore", "CCrypto"], path: source("Data", "Tabular"), swiftSettings: swift6),
        .target(name: "MetricConfig", dependencies: ["Support", "ScoringCore", .product(name: "Yams", package: "Yams")],
                path: source("Data", "MetricConfig"), swiftSettings: swift6),
        .target(name: "Simulator", dependencies: ["ScoringCore", "Support"], path: source("Data", "Simulator"), swiftSettings: swift6),

        // Fitting
        .target(name: "FitEngine", dependencies: ["CLapack", "CRowKernels", "Support"], path: source("Fitting", "FitEngine"), swiftSettings: swift6),
        .target(name: "Training", dependencies: ["Support", "FitEngine", "Tabular", "ScoringCore", "MetricConfig"],
                path: source("Fitting", "Training"), swiftSettings: swift6),
        .target(
            name: "DistributedFitting",
            dependencies: ["Support", "FitEngine", "Tabular", "Training", "ScoringCore",
                           .target(name: "CMPI", condition: .when(traits: ["MPI"]))],
            path: source("Fitting", "DistributedFitting"),
            swiftSettings: swift6
        ),

        // Production: what production links besides the core.
        .target(name: "BatchScoring", dependencies: ["Support", "Tabular", "ScoringCore", "History"], path: source("Production", "BatchScoring"), swiftSettings: swift6),
        .target(name: "Exports", dependencies: ["Support", "ScoringCore"], path: source("Production", "Exports"), swiftSettings: swift6),
        .target(name: "History", dependencies: ["Support", "ScoringCore", "CSQLite"], path: source("Production", "History"), swiftSettings: swift6),
        .target(
            name: "Service",
            dependencies: [
                "Support", "ScoringCore", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            path: source("Production", "Service"),
            swiftSettings: swift6
        ),

        // Judging: accuracy measures (Foundation only), the team's scorecards, evaluation, the report.
        .target(name: "Accuracy", dependencies: ["Support"], path: source("Judging", "Accuracy"), swiftSettings: swift6),
        .target(name: "Scorecards", dependencies: ["Support", "ScoringCore", "MetricConfig", .product(name: "Yams", package: "Yams")],
                path: source("Judging", "Scorecards"), swiftSettings: swift6),
        .target(
            name: "Evaluation",
            dependencies: ["Support", "Training", "Tabular", "FitEngine", "ScoringCore", "Accuracy", "MetricConfig", "Scorecards", "BatchScoring"],
            path: source("Judging", "Evaluation"),
            swiftSettings: swift6
        ),
        .target(name: "Report", dependencies: ["Support", "Evaluation", "Accuracy", "ScoringCore", "Tabular", "BatchScoring", "Training"],
                path: source("Judging", "Report"), swiftSettings: swift6),

        // Tools: the programs and what they share (one-line errors, standard output, model trust options).
        // CommandSupport stays in the Swift 5 mode: it writes through the C library's `stdout` and
        // `stderr`, globals Swift 6 refuses to name (they are shared mutable state to it).
        .target(name: "CommandSupport", dependencies: ["Support", "ScoringCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                path: source("Tools", "CommandSupport")),
        // The healthscore command's subcommands (flags → spec → library call → printing), a library so
        // tests parse flags and render help in process; HealthScoreCLI is its one-line program.
        .target(
            name: "HealthScoreCommands",
            dependencies: [
                "Support", "Training", "Tabular", "ScoringCore", "Simulator", "FitEngine", "MetricConfig", "Accuracy", "Scorecards",
                "Evaluation", "Exports", "History", "Report", "DistributedFitting", "CommandSupport", "BatchScoring",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: source("Tools", "HealthScoreCommands"),
            swiftSettings: swift6
        ),
        .executableTarget(name: "HealthScoreCLI", dependencies: ["HealthScoreCommands"], path: source("Tools", "HealthScoreCLI"), swiftSettings: swift6),
        .executableTarget(
            name: "HealthScoreServe",
            dependencies: ["Support", "Service", "ScoringCore", "CommandSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: source("Tools", "HealthScoreServe"),
            swiftSettings: swift6
        ),
        .target(name: "FuzzHarness", dependencies: ["Support", "Tabular", "ScoringCore", "MetricConfig", "Scorecards", "Service"],
                path: source("Tools", "FuzzHarness"), swiftSettings: swift6),
        .executableTarget(name: "FuzzTargets", dependencies: ["FuzzHarness", "CFuzzerEntry"], path: source("Tools", "FuzzTargets"), swiftSettings: swift6),

        .target(name: "TestSupport", dependencies: ["Support"], path: "Tests/TestSupport"),
        // Checks each MPI collective under `mpirun` (.ci/mpi-check); without the trait it only says so.
        .executableTarget(name: "MPISmoke", dependencies: ["DistributedFitting"], path: "Tests/MPISmoke"),
        .testTarget(name: "ScoringCoreTests", dependencies: ["Support", "ScoringCore", "TestSupport"]),
        .testTarget(name: "TabularTests", dependencies: ["Support", "Tabular", "TestSupport"]),
        .testTarget(name: "BatchScoringTests", dependencies: ["BatchScoring", "ScoringCore", "Tabular", "Training", "Simulator", "TestSupport"]),
        .testTarget(name: "FitEngineTests", dependencies: ["Support", "FitEngine", "CRowKernels", "TestSupport"]),
        .testTarget(name: "SimulatorTests", dependencies: ["Simulator", "TestSupport"]),
        .testTarget(name: "AccuracyTests", dependencies: ["Support", "Accuracy", "TestSupport"]),
        .testTarget(name: "MetricConfigTests", dependencies: ["Support", "MetricConfig", "TestSupport"]),
        .testTarget(name: "ExportsTests", dependencies: ["Support", "Exports", "ScoringCore", "Training", "Tabular", "TestSupport"]),
        .testTarget(name: "HistoryTests", dependencies: ["Support", "History", "ScoringCore", "Training", "Tabular", "TestSupport"]),
        .testTarget(name: "ServiceTests", dependencies: ["Support", "Service", "ScoringCore", "Training", "Tabular", "TestSupport"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Evaluation", "Training", "Tabular", "ScoringCore", "TestSupport"]),
        .testTarget(name: "ScorecardsTests", dependencies: ["Support", "Scorecards", "ScoringCore", "TestSupport"]),
        .testTarget(
            name: "EvaluationTests",
            dependencies: ["Support", "Evaluation", "Training", "Tabular", "Accuracy", "MetricConfig", "Scorecards", "ScoringCore", "Simulator", "TestSupport"]
        ),
        .testTarget(
            name: "TrainingTests",
            dependencies: ["Support", "Training", "Tabular", "ScoringCore", "FitEngine", "Simulator", "MetricConfig", "TestSupport"]
        ),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "History", "ScoringCore"]),
        .testTarget(name: "CommandTests", dependencies: ["HealthScoreCommands", "ScoringCore", "TestSupport",
                                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                    exclude: ["Help"]),
        .testTarget(name: "FuzzHarnessTests", dependencies: ["FuzzHarness", "Tabular", "ScoringCore", "TestSupport"]),
        .testTarget(name: "DistributedFittingTests", dependencies: ["DistributedFitting", "Training", "Tabular", "FitEngine", "ScoringCore", "Simulator", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
