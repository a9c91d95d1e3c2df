import ArgumentParser
import CommandSupport
import Foundation
import MetricConfig
import ScoringCore
import Tabular
import Training

/// How the data's columns are used: from `--config` (the analyst's metric configuration) and the
/// flags, flags winning where both speak.
struct DataRoleOptions: ParsableArguments {
    @Option(help: "Metric configuration (YAML) naming roles, directions (healthier_when), transforms and groups; 'healthscore init' writes a starter.")
    var config: String?

    @Option(help: "The label column: 1 = churned (0/1, true/false, yes/no, or see --positive). Required unless the --config names it.")
    var target: String?

    @Option(help: "Customer id column (kept out of the metrics; used for grouping and output).")
    var id: String?

    @Option(help: "Snapshot date column (kept out of the metrics).")
    var time: String?

    @Option(help: "Comma-separated columns to leave out.", transform: { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } })
    var exclude: [String] = []

    @Option(help: "The label value that means churned, when it is not 0/1, true/false, yes/no or churned/active.")
    var positive: String?

    @Option(help: ArgumentHelp("With --positive: comma-separated label values that mean stayed; rows with any other label value are left out (needed when the label has more than two values).", valueName: "values"),
            transform: { $0.split(separator: ",").map(String.init) })
    var negative: [String] = []

    @Option(help: "Missing metric values: drop (complete cases, as R's glm; the default) or impute (fill + indicator term).")
    var missing: MissingPolicy?

    @Option(help: "With --missing impute: fill missing numbers with the training mean (default) or median.")
    var impute: ImputeStatistic?

    @Option(name: .customLong("rare-levels"), help: ArgumentHelp("Pool category levels seen in less than this share of training rows into '(other)', e.g. 0.01.", valueName: "share"))
    var rareLevels: Double?

    @Option(name: .customLong("unseen-levels"), help: "Stored in the model: how scoring treats a category level training never saw: error, reference or other.")
    var unseenLevels: UnknownLevelPolicy?

    @Option(name: .customLong("group-correlated"), help: ArgumentHelp("Average numeric metrics correlated above this |r| into one standardised group term each, e.g. 0.9.", valueName: "r"))
    var groupCorrelated: Double?

    @Option(help: ArgumentHelp("Transform a numeric metric before fitting, learned on the training rows and stored in the model: COL=log1p, COL=asinh, COL=clip (1st–99th percentile), or a chain such as COL=clip+log1p; repeatable.", valueName: "col=kind"))
    var transform: [String] = []

    @Flag(help: "log1p (asinh when negative values occur) every numeric metric with skewness above 2 that has no --transform.")
    var autoTransform = false

    @Option(help: "Column of non-negative sample weights.")
    var weights: String?

    @Option(help: "none, or balanced (each class weighted to N/2, as scikit-learn; probabilities are then not calibrated).")
    var classWeight: ClassWeight = .none

    @Option(name: .customLong("na-values"), help: "Comma-separated tokens read as missing besides the usual ones (empty, NA, N/A, NULL, NaN, #N/A, <NA>; any case, spaces ignored), e.g. --na-values='-,?,#DIV/0!'; repeatable, the lists add up.",
            transform: { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) })
    var naValueLists: [[String]] = []

    var extraNAValues: [String] { naValueLists.flatMap { $0 } }

    @Option(help: ArgumentHelp("Comma-separated columns to read as categories even when their cells are numbers (area codes, plan ids).", valueName: "cols"),
            transform: { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } })
    var categorical: [String] = []

    @Option(help: ArgumentHelp("The level a category is compared with: COL=LEVEL (default: the first level in byte order); repeatable.", valueName: "col=level"))
    var reference: [String] = []

    @Option(help: "How the data file writes numbers: plain (default), grouped (1,234.5  $1,200  12% → 0.12) or decimal-comma (1.234,5  12,5 %). Stored in the model for scoring.")
    var numberFormat: NumberFormat?

    @Flag(name: .customLong("no-default-na"), help: "Read only empty cells and --na-values as missing: 'NA', 'NULL', 'N/A', … stay text (NA for North America, say).")
    var noDefaultNA = false

    /// The NA tokens the data is read with: the usual ones (unless --no-default-na) plus `--na-values`.
    var naValues: [String] {
        let base = noDefaultNA ? [""] : FitPipeline.defaultNAValues
        return base + extraNAValues.filter { !base.contains($0) }
    }

    /// The configuration file's roles (if any) with the explicit flags applied over them.
    func resolved() throws -> ColumnRoles {
        var r: ColumnRoles
        if let config {
            r = try ColumnRoles(config: MetricConfiguration.load(path: config), target: target, path: config)
        } else {
            guard let target else { throw ValidationError("--target is required (or a --config that names the target)") }
            r = ColumnRoles(target: target)
        }
        if let id { r.id = id }
        if let time { r.time = time }
        r.exclude += exclude.filter { !r.exclude.contains($0) }
        if let positive { r.positive = positive }
        if !negative.isEmpty { r.negatives = negative }
        if let missing { r.missing = missing }
        if let impute { r.impute = impute }
        if let rareLevels { r.rareLevelShare = rareLevels }
        if let unseenLevels { r.unseenLevels = unseenLevels }
        if let groupCorrelated { r.correlationThreshold = groupCorrelated }
        if let weights { r.weights = weights }
        r.categorical.formUnion(categorical)
        for item in reference {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            r.references[parts[0]] = parts[1]
        }
        if let numberFormat { r.numberFormat = numberFormat }
        r.classWeight = classWeight
        r.transforms.merge(try parsedTransforms()) { $1 }
        r.autoTransform = r.autoTransform || autoTransform
        if impute != nil && r.missing != .impute {
            throw ValidationError("--impute goes with --missing impute (with drop, rows with a missing value are left out and nothing is filled): add --missing impute, or drop --impute")
        }
        return r
    }

    func parsedTransforms() throws -> [String: [MetricTransform.Kind]] {
        var out: [String: [MetricTransform.Kind]] = [:]
        for item in transform {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            let kinds = parts.count == 2 ? parts[1].split(separator: "+").map { MetricTransform.Kind(rawValue: String($0).trimmingCharacters(in: .whitespaces)) } : []
            guard parts.count == 2, !parts[0].isEmpty, !kinds.isEmpty, kinds.allSatisfy({ $0 != nil }) else {
                throw ValidationError("--transform '\(item)' is not COL=log1p|asinh|clip (chains with +, e.g. COL=clip+log1p)")
            }
            out[parts[0]] = kinds.compactMap { $0 }
        }
        return out
    }

    func validate() throws {
        _ = try parsedTransforms()
        for item in reference where item.split(separator: "=", maxSplits: 1).count != 2 {
            throw ValidationError("--reference '\(item)' is not COL=LEVEL (e.g. --reference plan=basic)")
        }
        if !negative.isEmpty && positive == nil { throw ValidationError("--negative needs --positive (the value that means churned)") }
        if config == nil && target == nil { throw ValidationError("--target is required (or a --config that names the target)") }
        if let rareLevels, !(rareLevels >= 0 && rareLevels < 1) { throw ValidationError("--rare-levels must be a share in [0, 1), e.g. 0.01") }
        if let groupCorrelated, !(groupCorrelated > 0 && groupCorrelated < 1) { throw ValidationError("--group-correlated must be in (0, 1), e.g. 0.9") }
    }
}

extension MissingPolicy: ExpressibleByArgument {}
extension NumberFormat: ExpressibleByArgument {}
extension ImputeStatistic: ExpressibleByArgument {}
extension ClassWeight: ExpressibleByArgument {}

/// Column names from a comma-separated flag value (`--keep owner, region`), blanks dropped.
func columnList(_ text: String?) -> [String] {
    (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}
