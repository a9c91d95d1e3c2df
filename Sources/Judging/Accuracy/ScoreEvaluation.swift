import Support

/// Settings for `evaluate`; the defaults are the conventional ones (deciles, 95%).
public struct EvaluationOptions: Codable, Sendable, Equatable {
    /// For the DeLong AUC interval and the band Wilson intervals.
    public var confidenceLevel: Double
    /// Bins of the reliability table (and its ECE).
    public var calibrationBins: Int
    public var calibrationBinning: CalibrationBinning
    /// Risk groups of the Hosmer–Lemeshow test (at least 3).
    public var hosmerLemeshowGroups: Int
    /// Groups of the lift table (10 = deciles).
    public var liftGroups: Int
    /// Keep at most this many ROC curve points (see `ROCCurve.thinned`); `nil` keeps every point.
    public var maxCurvePoints: Int?

    public init(confidenceLevel: Double = 0.95, calibrationBins: Int = 10, calibrationBinning: CalibrationBinning = .quantile,
                hosmerLemeshowGroups: Int = 10, liftGroups: Int = 10, maxCurvePoints: Int? = 1000) {
        self.confidenceLevel = confidenceLevel
        self.calibrationBins = calibrationBins
        self.calibrationBinning = calibrationBinning
        self.hosmerLemeshowGroups = hosmerLemeshowGroups
        self.liftGroups = liftGroups
        self.maxCurvePoints = maxCurvePoints
    }
}

/// Every accuracy measure of a set of churn probabilities, from one call and one sort, ready to be
/// written as JSON. Measures that the data cannot support (e.g. a calibration slope under perfect
/// separation, lift with fewer rows than groups) are `nil` with the reason in `warnings`.
public struct ScoreEvaluation: Codable, Sendable, Equatable {
    /// Rows evaluated.
    public var count: Int
    public var churners: Int
    /// churners / count, the base rate.
    public var churnRate: Double
    /// The settings used, so a JSON report is self-describing.
    public var options: EvaluationOptions

    /// AUC with DeLong standard error and confidence interval.
    public var roc: DeLongAUC
    public var rocCurve: ROCCurve
    public var ks: KSStatistic
    public var averagePrecision: Double

    public var logLoss: Double
    public var brierScore: Double
    public var brierSkillScore: Double

    public var reliability: ReliabilityTable
    public var calibration: LogisticCalibration?
    public var hosmerLemeshow: HosmerLemeshowTest?
    public var lift: LiftTable?
    /// Churn rate per band, when bands were given.
    public var bands: [BandChurnRate]?

    /// Why an optional measure is missing.
    public var warnings: [String]
}

/// Evaluates churn probabilities `scores` (in [0, 1]) against `labels` (1 = churned). Needs at least two
/// churners and two non-churners (DeLong). Optional `bands` (one label per row, e.g. health tiers) add
/// per-band churn rates with Wilson intervals. Throws `AccuracyError` for invalid input.
public func evaluate<L: ChurnLabel>(
    labels: [L], scores: [Double], bands: [String]? = nil, options: EvaluationOptions = EvaluationOptions()
) throws -> ScoreEvaluation {
    let checked = try checkInputs(labels: labels, scores: scores, requirement: .probability, minimumPerClass: 2, metric: "evaluate")
    let z = try SpecialFunctions.twoSidedNormalQuantile(confidenceLevel: options.confidenceLevel)
    guard options.calibrationBins >= 1 else {
        throw AccuracyError.invalidArgument("calibrationBins must be at least 1, got \(options.calibrationBins)")
    }
    guard options.hosmerLemeshowGroups >= 3 else {
        throw AccuracyError.invalidArgument("hosmerLemeshowGroups must be at least 3, got \(options.hosmerLemeshowGroups)")
    }
    guard options.liftGroups >= 1 else {
        throw AccuracyError.invalidArgument("liftGroups must be at least 1, got \(options.liftGroups)")
    }
    let bandRates = try bands.map { try ChurnBands.rates(bands: $0, labels: checked.churned, confidenceLevel: options.confidenceLevel) }

    let ranked = RankedSample(churned: checked.churned, scores: scores)
    var warnings: [String] = []
    func attempt<T>(_ what: String, _ body: () throws -> T) -> T? {
        do { return try body() } catch {
            warnings.append("\(what): \(error)")
            return nil
        }
    }
    let brier = ProbabilityScores.brier(checked.churned, scores, nil)
    let rate = Double(checked.churners) / Double(checked.count)
    let calibration = attempt("calibration slope") { try Calibration.logisticRecalibration(checked.churned, scores) }
    let hosmerLemeshow = attempt("Hosmer–Lemeshow") { try Calibration.hosmerLemeshow(ranked, groups: options.hosmerLemeshowGroups) }
    let lift = attempt("lift") { try Lift.table(ranked, groups: options.liftGroups) }

    return ScoreEvaluation(
        count: checked.count, churners: checked.churners, churnRate: rate, options: options,
        roc: ROC.delong(ranked, z: z, confidenceLevel: options.confidenceLevel),
        rocCurve: ROC.curve(ranked, maxPoints: options.maxCurvePoints),
        ks: ROC.ks(ranked),
        averagePrecision: PrecisionRecall.averagePrecision(ranked),
        logLoss: ProbabilityScores.logLoss(checked.churned, scores, nil),
        brierScore: brier,
        brierSkillScore: 1 - brier / (rate * (Double(checked.nonChurners) / Double(checked.count))),
        reliability: Calibration.reliability(ranked, bins: options.calibrationBins, binning: options.calibrationBinning),
        calibration: calibration, hosmerLemeshow: hosmerLemeshow, lift: lift, bands: bandRates,
        warnings: warnings)
}
