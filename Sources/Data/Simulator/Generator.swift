import Foundation

enum Plan: Int, CaseIterable {
    case basic = 0, pro, enterprise

    var name: String {
        switch self {
        case .basic: return "basic"
        case .pro: return "pro"
        case .enterprise: return "enterprise"
        }
    }
}

enum Segment: Int, CaseIterable {
    case smb = 0, midMarket, enterprise

    var name: String {
        switch self {
        case .smb: return "smb"
        case .midMarket: return "mid_market"
        case .enterprise: return "enterprise"
        }
    }
}

/// One generated customer-month, holding every value exactly as it is printed (scaled integers),
/// so η is computed from the numbers a reader of the CSV will see.
struct SimulatedRow {
    var customer = 0
    var monthIndex = 0
    var plan = Plan.basic
    var segment = Segment.smb
    var logins = 0
    var activeDays = 0
    var featureAdoptionMilli = 0
    var supportTickets = 0
    var highSeverityTickets = 0
    var csatDeci = 0
    var csatMissing = false
    var nps = 0
    var referrals = 0
    var roiCenti = 0
    var daysLate = 0
    var sentimentMilli = 0
    /// usage_k × 10⁴.
    var usage: [Int] = []
    var eta = 0.0
    var churned = false
}

/// How one generic usage metric relates to latent engagement. Fixed by its index, not by the
/// seed, so the true model depends only on the number of metrics.
struct UsageSpec {
    var mean: Double
    var scale: Double
    var loading: Double
    var weight: Double

    init(index k: Int) {
        let scales = [1.0, 20.0, 0.5, 4.0, 100.0, 2.5]
        // Effect of one standard deviation on η. Signs are balanced so that the block does not act
        // as one big extra engagement effect that would shift the churn rate as K grows.
        let effects = [-0.08, 0.07, -0.05, -0.10, 0.08, -0.06, 0.05, 0.09]
        scale = scales[(k - 1) % scales.count]
        mean = 4 * scale
        let golden = 0.6180339887498949
        let fraction = (Double(k) * golden).truncatingRemainder(dividingBy: 1)
        loading = 0.2 + 0.3 * fraction
        // Rounded so the truth JSON shows 0.0007 rather than 0.0007000000000000001.
        weight = (effects[(k - 1) % effects.count] / scale * 1e12).rounded() / 1e12
    }
}

/// The coefficients of the true model, in the order of healthscore's design terms.
struct Coefficients {
    // Each weight is (intended effect of one standard deviation on η) / (the column's standard
    // deviation in a 200k-row calibration run), rounded, so every term moves η by 0.13–0.38 per sd
    // and stays identifiable at that sample size.
    var baseIntercept = 0.0
    var planEnterprise = -0.50
    var planPro = -0.25
    var segmentMidMarket = 0.30
    var segmentSmb = 0.45
    var logins = -0.010
    var activeDays = -0.040
    var featureAdoption = -2.0
    var supportTickets = 0.20
    var highSeverityTickets = 0.45
    var csat = -0.50
    var nps = -0.12
    var referrals = -0.50
    var roiProxy = -0.25
    var daysLate = 0.050
    var sentiment = -0.60
    var usage: [UsageSpec]

    init(extraMetrics: Int) {
        usage = extraMetrics > 0 ? (1...extraMetrics).map(UsageSpec.init(index:)) : []
    }

    /// Usage metrics are centred on known means; subtracting their mean contribution keeps the
    /// churn rate roughly the same whatever K is.
    var intercept: Double {
        let compensated = usage.reduce(baseIntercept) { $0 - $1.weight * $1.mean }
        return (compensated * 1e9).rounded() / 1e9
    }

    static let numericColumns = [
        "logins", "active_days", "feature_adoption", "support_tickets", "high_severity_tickets",
        "csat", "nps", "referrals", "roi_proxy", "days_late", "sentiment",
    ]

    static func usageColumnNames(_ count: Int) -> [String] {
        guard count > 0 else { return [] }
        let width = max(2, String(count).count)
        return (1...count).map { k in
            let digits = String(k)
            return "usage_" + String(repeating: "0", count: width - digits.count) + digits
        }
    }

    var terms: [TrueWeight] {
        var result = [
            TrueWeight(term: "plan[enterprise]", weight: planEnterprise),
            TrueWeight(term: "plan[pro]", weight: planPro),
            TrueWeight(term: "segment[mid_market]", weight: segmentMidMarket),
            TrueWeight(term: "segment[smb]", weight: segmentSmb),
        ]
        let numeric = [
            logins, activeDays, featureAdoption, supportTickets, highSeverityTickets,
            csat, nps, referrals, roiProxy, daysLate, sentiment,
        ]
        for (name, weight) in zip(Coefficients.numericColumns, numeric) {
            result.append(TrueWeight(term: name, weight: weight))
        }
        for (name, spec) in zip(Coefficients.usageColumnNames(usage.count), usage) {
            result.append(TrueWeight(term: name, weight: spec.weight))
        }
        return result
    }
}

/// Customer histories driven by three latent AR(1) processes: engagement (health), friction
/// (support pain) and payment stress. Metrics load on them with their own noise, so they are
/// correlated like real product metrics without being collinear.
struct HistoryGenerator {
    let config: SimulationConfig
    let coefficients: Coefficients

    // Latent structure. Engagement H = customer level + AR(1) deviation.
    static let planHealth: [Double] = [-0.15, 0.05, 0.25]
    static let segmentHealth: [Double] = [-0.10, 0.0, 0.15]
    static let customerHealthSD = 0.55
    static let engagementAR = 0.75
    static let engagementSD = 0.70
    static let frictionAR = 0.5
    static let frictionSD = 0.70
    static let stressAR = 0.6
    static let stressSD = 0.60

    static let segmentLogins: [Double] = [8, 20, 45]
    static let segmentTickets: [Double] = [0.7, 1.2, 2.0]
    static let segmentFriction: [Double] = [0.0, 0.05, 0.15]
    static let planAdoption: [Double] = [-0.2, 0.1, 0.3]
    static let planROI: [Double] = [0.0, 0.1, 0.2]

    /// Rough centre and spread of H over the customer mix, to standardise it for usage metrics.
    static let engagementCentre = -0.04
    static let engagementSpread = 0.92

    /// Share of customers already active when the window opens; the rest sign up later.
    static let initialShare = 0.4
    static let csatMissingRate = 0.03

    init(config: SimulationConfig) {
        self.config = config
        coefficients = Coefficients(extraMetrics: max(0, config.extraMetrics))
    }

    static func drawSegment(_ rng: inout SimRandom) -> Segment {
        let u = rng.uniform()
        if u < 0.50 { return .smb }
        if u < 0.82 { return .midMarket }
        return .enterprise
    }

    static func drawPlan(_ rng: inout SimRandom, segment: Segment) -> Plan {
        let u = rng.uniform()
        let (basic, pro): (Double, Double)
        switch segment {
        case .smb: (basic, pro) = (0.65, 0.30)
        case .midMarket: (basic, pro) = (0.35, 0.50)
        case .enterprise: (basic, pro) = (0.10, 0.40)
        }
        if u < basic { return .basic }
        if u < basic + pro { return .pro }
        return .enterprise
    }

    @inline(__always)
    static func roundToInt(_ x: Double, scale: Double) -> Int {
        Int((x * scale).rounded())
    }

    @inline(__always)
    static func clamp(_ x: Int, _ low: Int, _ high: Int) -> Int {
        min(max(x, low), high)
    }

    /// Calls `body` for every row in output order (customer by customer, month by month).
    func forEachRow(_ body: (SimulatedRow) throws -> Void) rethrows {
        let c = coefficients
        let usageCount = c.usage.count
        let intercept = c.intercept
        let months = max(config.months, 0)
        var row = SimulatedRow()
        row.usage = [Int](repeating: 0, count: usageCount)

        let aInnovation = Self.engagementSD * (1 - Self.engagementAR * Self.engagementAR).squareRoot()
        let fInnovation = Self.frictionSD * (1 - Self.frictionAR * Self.frictionAR).squareRoot()
        let gInnovation = Self.stressSD * (1 - Self.stressAR * Self.stressAR).squareRoot()

        for customer in 0..<max(config.customers, 0) {
            var rng = SimRandom(seed: config.seed, stream: UInt64(customer))
            let segment = Self.drawSegment(&rng)
            let plan = Self.drawPlan(&rng, segment: segment)
            let s = segment.rawValue
            let p = plan.rawValue

            let healthLevel = Self.planHealth[p] + Self.segmentHealth[s] + Self.customerHealthSD * rng.normal()
            let frictionLevel = Self.segmentFriction[s] + 0.45 * rng.normal() - 0.25 * healthLevel
            let stressLevel = 0.5 * rng.normal() - 0.5 * healthLevel
            let seats = DMath.exp(0.4 * rng.normal())

            var start = 0
            if months > 1 && !rng.bernoulli(Self.initialShare) {
                start = 1 + rng.integer(below: months - 1)
            }

            var a = Self.engagementSD * rng.normal()
            var f = Self.frictionSD * rng.normal()
            var g = Self.stressSD * rng.normal()

            row.customer = customer + 1
            row.plan = plan
            row.segment = segment
            let categoricalEta = intercept
                + (plan == .enterprise ? c.planEnterprise : 0) + (plan == .pro ? c.planPro : 0)
                + (segment == .midMarket ? c.segmentMidMarket : 0) + (segment == .smb ? c.segmentSmb : 0)

            var month = start
            while month < months {
                if month > start {
                    a = Self.engagementAR * a + aInnovation * rng.normal()
                    f = Self.frictionAR * f + fInnovation * rng.normal()
                    g = Self.stressAR * g + gInnovation * rng.normal()
                }
                let health = healthLevel + a
                let friction = frictionLevel + f - 0.3 * a
                let stress = stressLevel + g - 0.2 * a

                row.monthIndex = month

                let loginRate = Self.segmentLogins[s] * seats * DMath.exp(0.45 * health + 0.3 * rng.normal())
                row.logins = rng.poisson(loginRate)

                let activeShare = DMath.sigmoid(0.4 + 0.9 * health + 0.4 * rng.normal())
                let activeSD = (30 * activeShare * (1 - activeShare)).squareRoot()
                row.activeDays = Self.clamp(
                    Self.roundToInt(30 * activeShare + activeSD * rng.normal(), scale: 1), 0, 30)

                let adoptionMean = DMath.sigmoid(-0.5 + 0.6 * health + Self.planAdoption[p] + 0.3 * rng.normal())
                let concentration = 14.0
                let adoption = rng.beta(adoptionMean * concentration, (1 - adoptionMean) * concentration)
                row.featureAdoptionMilli = Self.roundToInt(adoption, scale: 1000)

                let ticketRate = Self.segmentTickets[s] * DMath.exp(0.55 * friction + 0.15 * health)
                row.supportTickets = rng.poisson(ticketRate)
                row.highSeverityTickets = rng.binomial(
                    trials: row.supportTickets, p: DMath.sigmoid(-1.4 + 0.6 * friction))

                let csat = 3.9 + 0.3 * health - 0.3 * friction - 0.1 * Double(row.highSeverityTickets)
                    + 0.45 * rng.normal()
                row.csatDeci = Self.clamp(Self.roundToInt(csat, scale: 10), 10, 50)
                row.csatMissing = rng.bernoulli(Self.csatMissingRate)

                let nps = 7.0 + 1.1 * health - 0.35 * friction + 1.5 * rng.normal()
                row.nps = Self.clamp(Self.roundToInt(nps, scale: 1), 0, 10)

                row.referrals = rng.poisson(0.05 * DMath.exp(0.8 * health))

                let roi = DMath.exp(0.1 + 0.3 * health + Self.planROI[p] + 0.5 * rng.normal())
                row.roiCenti = max(1, Self.roundToInt(min(roi, 1e6), scale: 100))

                if rng.bernoulli(DMath.sigmoid(-2.3 + 1.1 * stress)) {
                    let days = DMath.exp(1.8 + 0.3 * stress + 0.8 * rng.normal())
                    row.daysLate = Self.clamp(1 + Int(days.rounded(.down)), 1, 365)
                } else {
                    row.daysLate = 0
                }

                let sentiment = DMath.tanh(0.45 * health - 0.2 * friction + 0.5 * rng.normal())
                row.sentimentMilli = Self.roundToInt(sentiment, scale: 1000)

                var eta = categoricalEta
                eta += c.logins * Double(row.logins)
                eta += c.activeDays * Double(row.activeDays)
                eta += c.featureAdoption * (Double(row.featureAdoptionMilli) / 1000)
                eta += c.supportTickets * Double(row.supportTickets)
                eta += c.highSeverityTickets * Double(row.highSeverityTickets)
                eta += c.csat * (Double(row.csatDeci) / 10)
                eta += c.nps * Double(row.nps)
                eta += c.referrals * Double(row.referrals)
                eta += c.roiProxy * (Double(row.roiCenti) / 100)
                eta += c.daysLate * Double(row.daysLate)
                eta += c.sentiment * (Double(row.sentimentMilli) / 1000)

                if usageCount > 0 {
                    let z = (health - Self.engagementCentre) / Self.engagementSpread
                    for k in 0..<usageCount {
                        let spec = c.usage[k]
                        let noise = (1 - spec.loading * spec.loading).squareRoot() * rng.normal()
                        let value = max(0, spec.mean + spec.scale * (spec.loading * z + noise))
                        let scaled = Self.roundToInt(value, scale: 10_000)
                        row.usage[k] = scaled
                        eta += spec.weight * (Double(scaled) / 10_000)
                    }
                }

                row.eta = eta
                row.churned = rng.bernoulli(DMath.sigmoid(eta))
                try body(row)
                if row.churned { break }
                month += 1
            }
        }
    }
}
