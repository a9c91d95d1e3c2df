// swift-tools-version:6.1
import PackageDescription

// Dependency arrows point one way:
//   healthscore (CLI) → Training → FitEngine / Tabular / MetricConfig → ScoringCore
//   healthscore (CLI) → Evaluation → Training / ModelMetrics / Scorecards
//   ModelMetrics (accuracy measures) depends on nothing but Foundation.
//   healthscore (CLI) → DistributedFitting → Training; DistributedFitting → CMPI only with the MPI trait.
//   healthscore-serve (HealthScoreServe) → Service → ScoringCore; both programs → CommandSupport.
//   The main tool does not depend on Service, so its build needs no SwiftNIO.
// ScoringCore is pure Swift + Foundation: it is what production embeds, so it
// must never see CLapack or FitEngine.
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
        .systemLibrary(
            name: "CLapack",
            path: "Sources/CLapack",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        .systemLibrary(
            name: "CCrypto",
            path: "Sources/CCrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            path: "Sources/CSQLite",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CMPI",
            path: "Sources/CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"])]
        ),
        .target(name: "ScoringCore", dependencies: ["Support"]),
        // The leaf every layer may use: small shared pieces with no dependency (the PRNG).
        .target(name: "Support"),
        // What production links besides the core: exports to SQL/PMML/ONNX, the score history, the service.
        .target(name: "Exports", dependencies: ["Support", "ScoringCore"]),
        .target(name: "Report", dependencies: ["Support", "Evaluation", "ModelMetrics", "ScoringCore", "Tabular", "BatchScoring", "Training"]),
        .target(name: "History", dependencies: ["ScoringCore", "CSQLite"]),
        .target(name: "Service", dependencies: ["Support", 
            "ScoringCore", .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
        ]),
        .target(name: "Tabular", dependencies: ["Support", "ScoringCore", "CCrypto"]),
        .target(name: "BatchScoring", dependencies: ["Support", "Tabular", "ScoringCore"]),
        // The per-row exp/log1p of a Newton pass, vectorised (C: per-function target attributes).
        .target(name: "CRowKernels"),
        .target(name: "FitEngine", dependencies: ["CLapack", "CRowKernels", "Support"]),
        .target(name: "Simulator", dependencies: ["ScoringCore", "Support"]),
        .target(
            name: "DistributedFitting",
            dependencies: ["Support", "FitEngine", "Tabular", "Training", "ScoringCore",
                           .target(name: "CMPI", condition: .when(traits: ["MPI"]))]
        ),
        .target(name: "ModelMetrics"),
        .target(name: "MetricConfig", dependencies: ["Support", "ScoringCore", .product(name: "Yams", package: "Yams")]),
        .target(name: "Training", dependencies: ["Support", "FitEngine", "Tabular", "ScoringCore", "MetricConfig"]),
        .target(name: "Scorecards", dependencies: ["Support", "ScoringCore", "MetricConfig", .product(name: "Yams", package: "Yams")]),
        .target(
            name: "Evaluation",
            dependencies: ["Training", "Tabular", "FitEngine", "ScoringCore", "ModelMetrics", "MetricConfig", "Scorecards", "BatchScoring", "Support"]
        ),
        // What the command-line programs share: one-line errors, the standard-output writer, model trust
        // options, the service's options.
        .target(name: "CommandSupport", dependencies: ["Support", "ScoringCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "HealthScoreCLI",
            dependencies: ["Support", 
                "Training", "Tabular", "ScoringCore", "Simulator", "FitEngine", "MetricConfig", "ModelMetrics", "Scorecards", "Evaluation",
                "Exports", "History", "Report", "DistributedFitting", "CommandSupport", "BatchScoring",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "HealthScoreServe",
            dependencies: ["Service", "ScoringCore", "CommandSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .target(name: "FuzzHarness", dependencies: ["Support", "Tabular", "ScoringCore", "MetricConfig", "Scorecards", "Service"]),
        .target(name: "CFuzzerEntry"),
        .executableTarget(name: "FuzzTargets", dependencies: ["FuzzHarness", "CFuzzerEntry"]),
        .target(name: "TestSupport", dependencies: ["Support"], path: "Tests/TestSupport"),
        // Checks each MPI collective under `mpirun` (.ci/mpi-check); without the trait it only says so.
        .executableTarget(name: "MPISmoke", dependencies: ["DistributedFitting"], path: "Tests/MPISmoke"),
        .testTarget(name: "ScoringCoreTests", dependencies: ["ScoringCore", "TestSupport"]),
        .testTarget(name: "TabularTests", dependencies: ["Support", "Tabular", "TestSupport"]),
        .testTarget(name: "BatchScoringTests", dependencies: ["BatchScoring", "ScoringCore", "Tabular", "Training", "Simulator", "TestSupport"]),
        .testTarget(name: "FitEngineTests", dependencies: ["Support", "FitEngine", "CRowKernels", "TestSupport"]),
        .testTarget(name: "SimulatorTests", dependencies: ["Simulator", "TestSupport"]),
        .testTarget(name: "ModelMetricsTests", dependencies: ["ModelMetrics", "TestSupport"]),
        .testTarget(name: "MetricConfigTests", dependencies: ["Support", "MetricConfig", "TestSupport"]),
        .testTarget(name: "ExportsTests", dependencies: ["Support", "Exports", "ScoringCore", "Training", "Tabular", "TestSupport"]),
        .testTarget(name: "HistoryTests", dependencies: ["History", "ScoringCore", "Training", "Tabular", "TestSupport"]),
        .testTarget(name: "ServiceTests", dependencies: ["Support", "Service", "ScoringCore", "Training", "Tabular", "TestSupport"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Evaluation", "Training", "Tabular", "ScoringCore", "TestSupport"]),
        .testTarget(name: "ScorecardsTests", dependencies: ["Support", "Scorecards", "ScoringCore", "TestSupport"]),
        .testTarget(
            name: "EvaluationTests",
            dependencies: ["Support", "Evaluation", "Training", "Tabular", "ModelMetrics", "MetricConfig", "Scorecards", "ScoringCore", "Simulator", "TestSupport"]
        ),
        .testTarget(
            name: "TrainingTests",
            dependencies: ["Support", "Training", "Tabular", "ScoringCore", "FitEngine", "Simulator", "MetricConfig", "TestSupport"]
        ),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "History", "ScoringCore"]),
        .testTarget(name: "FuzzHarnessTests", dependencies: ["FuzzHarness", "Tabular", "ScoringCore", "TestSupport"]),
        .testTarget(name: "DistributedFittingTests", dependencies: ["DistributedFitting", "Training", "Tabular", "FitEngine", "ScoringCore", "Simulator", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
