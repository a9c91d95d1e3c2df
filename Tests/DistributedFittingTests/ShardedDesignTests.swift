import DistributedFitting
import FitEngine
import Foundation
import ScoringCore
import Tabular
import Testing
import TestSupport
import Training

/// Design statistics learned per rank and merged, files given as a list, and cross-validation
/// folds spread over ranks — each against one process doing the same work.
@Suite struct ShardedDesignTests {
    /// A churn file whose statistics are hard to merge: a level that first appears late (in the last
    /// rank's range), a rare level to pool, missing numbers, a skewed count, sample weights,
    /// repeated customers, and "region" written as digits early on and as words later, so ranks
    /// type it differently and it must be learned again as text.
    static func mixedFile(rows: Int, seed: UInt64, in dir: URL = Fixtures.temporaryDirectory()) throws -> String {
        var random = SeededRandom(seed: seed)
        var text = "customer,plan,region,logins,tickets,tenure,w,churned\n"
        let plans = ["basic", "pro", "team"]
        for i in 0..<rows {
            let u = random.uniform()
            let plan = u < 0.01 ? "rare" : (i > rows * 3 / 4 && u < 0.2 ? "zeta-late" : plans[Int(random.uniform() * 3)])
            let region = i < rows / 3 ? String(1 + i % 3) : ["north", "south", "east"][i % 3]
            let logins = random.uniform() < 0.03 ? "NA" : String(format: "%.3f", 20 + 6 * random.normal())
            let tickets = Int(exp(1.2 * random.normal()))
            let tenure = random.uniform() < 0.02 ? "" : String(Int(random.uniform() * 60))
            let w = String(format: "%.2f", 0.5 + random.uniform())
            let eta = -1 + 0.05 * ((Double(logins) ?? 20) - 20) + 0.3 * log1p(Double(tickets)) + (plan == "basic" ? 0.4 : 0)
            let y = random.uniform() < 1 / (1 + exp(-eta)) ? 1 : 0
            text += "C\(i / 3),\(plan),\(region),\(logins),\(tickets),\(tenure),\(w),\(y)\n"
        }
        let path = dir.appendingPathComponent("mixed-\(seed).csv").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Roles that use every kind of statistic: median fills and clip percentiles (kept values),
    /// auto-transform candidates (moments of three scales), pooling, class weights, ids.
    static func demandingRoles(impute: Bool) -> ColumnRoles {
        var roles = ColumnRoles(target: "churned", id: "customer", weights: "w")
        roles.missing = impute ? .impute : .drop
        roles.impute = impute ? .median : .mean
        roles.rareLevelShare = 0.02
        roles.autoTransform = true
        roles.transforms["tickets"] = [.clip, .log1p]
        if !impute { roles.classWeight = .balanced }
        return roles
    }

    static func distributed(_ paths: [String], _ roles: ColumnRoles, ranks: Int, chunkBytes: Int = 4 << 10) throws -> [ModelArtifact] {
        try onRanks(ranks) { group in
            var clock = Timings()
            return try DistributedPipeline.fit(FitSpec(roles: roles), group: group, dataPaths: paths, chunkBytes: chunkBytes,
                                               timings: &clock).model
        }
    }

    /// The schema's learned numbers to 1e-12 relative; levels, pooling, transforms and clip
    /// percentiles exactly (they come from the same values in the same order).
    static func expectSameSchema(_ a: InputSchema, _ b: InputSchema) {
        #expect(a.target == b.target)
        #expect(a.features.map(\.column) == b.features.map(\.column))
        for (f, g) in zip(a.features, b.features) {
            #expect(f.kind == g.kind && f.levels == g.levels && f.reference == g.reference && f.pooledLevels == g.pooledLevels, "\(f.column)")
            #expect(f.missingIndicator == g.missingIndicator && f.levelShares == g.levelShares && f.missingShare == g.missingShare, "\(f.column)")
            #expect(f.transforms == g.transforms, "\(f.column) transforms")
            for (u, v) in [(f.mean, g.mean), (f.standardDeviation, g.standardDeviation), (f.imputeValue, g.imputeValue)] {
                #expect((u == nil) == (v == nil), "\(f.column)")
                if let u, let v { #expect(relativeError(u, v) <= 1e-12, "\(f.column): \(u) vs \(v)") }
            }
        }
    }

    @Test(arguments: [(2, false), (3, true), (4, false)])
    func statisticsLearnedPerRankAndMergedGiveTheSingleProcessModel(_ ranks: Int, _ impute: Bool) throws {
        let path = try Self.mixedFile(rows: 2_400, seed: impute ? 5 : 6)
        let roles = Self.demandingRoles(impute: impute)
        var clock = Timings()
        let reference = try FitPipeline.fit(FitSpec(roles: roles), .file(path), timings: &clock).model
        // The file really exercises the merge: a late level, a pooled level, region read as text.
        let plan = reference.schema.features.first { $0.column == "plan" }
        #expect(plan?.levels?.contains("zeta-late") == true && plan?.pooledLevels == ["rare"])
        #expect(reference.schema.features.first { $0.column == "region" }?.kind == .categorical)
        #expect(reference.schema.features.first { $0.column == "tickets" }?.transforms?.map(\.kind) == [.clip, .log1p])
        for model in try Self.distributed([path], roles, ranks: ranks) {
            DistributedPipelineTests.expectSame(model, reference, tolerance: 1e-10)
            Self.expectSameSchema(model.schema, reference.schema)
            #expect(model.fit.nDropped == reference.fit.nDropped && model.fit.nImputedCells == reference.fit.nImputedCells)
            #expect(model.warnings.first { $0.code == "repeated_ids" }?.message == reference.warnings.first { $0.code == "repeated_ids" }?.message)
        }
    }

    @Test func serialisedStatisticsMergeLikeThePiecesInOrder() throws {
        let path = try Self.mixedFile(rows: 900, seed: 9)
        var roles = Self.demandingRoles(impute: true)
        roles.autoTransform = false
        var csv = CSVOptions()
        csv.textColumns = ["churned", "plan", "region"]
        csv.hashColumns = ["customer"]
        // Three byte ranges read as three processes would, and the whole file as one.
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        var parts: [[UInt8]] = []
        var whole = DesignStatistics(roles: roles, naValues: FitPipeline.defaultNAValues, path: path, collectIds: true)
        for range in ShardPlan(fileSize: size, ranks: 3).ranges {
            var part = DesignStatistics(roles: roles, naValues: FitPipeline.defaultNAValues, path: path, collectIds: true)
            try CSVReader.readChunks(path: path, options: csv, chunkBytes: 2 << 10, range: range) { piece, first in
                try part.observe(piece, recordOffset: first)
            }
            parts.append(part.serialized())
            whole.merge(part)
        }
        let merged = try DesignStatistics.merging(parts, roles: roles, naValues: FitPipeline.defaultNAValues, path: path)
        #expect(merged.records == 900 && merged.rows == whole.rows)
        #expect(merged.distinctIds == whole.distinctIds && merged.distinctIds == 300)
        #expect(try merged.recipe().schema == whole.recipe().schema)
        #expect(try merged.recipe().termNames == whole.recipe().termNames)

        var damaged = parts
        damaged[1].removeLast(3)
        #expect {
            _ = try DesignStatistics.merging(damaged, roles: roles, naValues: FitPipeline.defaultNAValues, path: path)
        } throws: { error in "\(error)".contains("process 1") }
        damaged = parts
        damaged[2][0] = 0
        #expect {
            _ = try DesignStatistics.merging(damaged, roles: roles, naValues: FitPipeline.defaultNAValues, path: path)
        } throws: { error in "\(error)".contains("process 2") && "\(error)".contains("tag") }
    }

    /// The mixed file cut into three files at record boundaries, each with the header.
    static func splitFile(_ path: String, into count: Int) throws -> [String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let header = lines.removeFirst()
        let dir = Fixtures.temporaryDirectory()
        return try (0..<count).map { k in
            let slice = lines[(k * lines.count / count)..<((k + 1) * lines.count / count)]
            let part = dir.appendingPathComponent("part\(k + 1).csv").path
            try Data(([header] + slice).map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: part))
            return part
        }
    }

    @Test(arguments: [1, 2, 3])
    func aListOfFilesFitsLikeTheirConcatenation(_ ranks: Int) throws {
        let path = try Self.mixedFile(rows: 2_100, seed: 21)
        let parts = try Self.splitFile(path, into: 3)
        let roles = Self.demandingRoles(impute: false)
        var clock = Timings()
        let reference = try FitPipeline.fit(FitSpec(roles: roles), .file(path), timings: &clock).model
        let listing = try parts.map { "\(try FileDigest.sha256Hex(path: $0))  \(($0 as NSString).lastPathComponent)\n" }.joined()
        for model in try Self.distributed(parts, roles, ranks: ranks, chunkBytes: 8 << 10) {
            DistributedPipelineTests.expectSame(model, reference, tolerance: 1e-10, sameFile: false)
            Self.expectSameSchema(model.schema, reference.schema)
            #expect(model.training.file == "part1.csv + part2.csv + part3.csv")
            #expect(model.training.rows == 2_100)
            #expect(model.training.sha256 == SHA256.hex(of: Data(listing.utf8)))
        }
        // One process streaming the list gives the same model.
        let streamed = try FitPipeline.fit(FitSpec(roles: roles), .files(parts), run: FitRun(streaming: StreamingOptions()), timings: &clock).model
        DistributedPipelineTests.expectSame(streamed, reference, tolerance: 1e-10, sameFile: false)
        #expect(streamed.training.sha256 == SHA256.hex(of: Data(listing.utf8)))
    }

    @Test func aFileWithAnotherHeaderIsNamedInOneLine() throws {
        let path = try Self.mixedFile(rows: 300, seed: 4)
        var parts = try Self.splitFile(path, into: 3)
        let odd = parts[2]
        let text = try String(contentsOfFile: odd, encoding: .utf8).replacingOccurrences(of: "tickets,tenure", with: "tenure,tickets")
        try Data(text.utf8).write(to: URL(fileURLWithPath: odd))
        parts.append(parts.removeFirst())
        let list = parts
        let messages = try onRanks(2) { group -> String in
            var clock = Timings()
            do {
                _ = try DistributedPipeline.fit(FitSpec(roles: ColumnRoles(target: "churned")), group: group, dataPaths: list, timings: &clock)
                return "fitted"
            } catch { return "\(error)" }
        }
        // Every rank checks every header, so the lowest rank reports and the other stops quietly.
        #expect(messages[0].contains("part3.csv") && messages[0].contains("header differs") && messages[0].contains("part2.csv"))
        #expect(messages[0].contains("column 5 is 'tenure'") && !messages[0].contains("\n"))
        #expect(messages[1].contains("rank 0 stopped"))
    }

    @Test(arguments: [2, 3])
    func crossValidationFoldsOnRanksChooseTheSingleProcessLambda(_ ranks: Int) throws {
        let path = try Self.mixedFile(rows: 900, seed: 13)
        var imputing = ColumnRoles(target: "churned", id: "customer")
        imputing.missing = .impute
        let roles = imputing
        var clock = Timings()
        let spec = FitSpec(roles: roles, estimator: Estimator(penalty: .elasticnet, alpha: 0.5,
                                                             crossValidation: .init(folds: 5, seed: 3, select: .oneSE)))
        let outcome = try FitPipeline.fit(spec, .file(path), timings: &clock)
        let single = (model: outcome.model, cv: outcome.cv!)
        let shared = try onRanks(ranks) { group -> (ModelArtifact, CVResult) in
            var clock = Timings()
            let o = try DistributedPipeline.fit(spec, group: group, dataPaths: [path], timings: &clock)
            return (o.model, o.cv!)
        }
        #expect(single.cv.lambdaMin != single.cv.lambda1se)
        for (model, cv) in shared {
            // Each fold is fitted on one rank and added to zeros elsewhere: the curves are the same numbers.
            #expect(cv.lambdas == single.cv.lambdas)
            #expect(cv.meanDeviance == single.cv.meanDeviance && cv.sdError == single.cv.sdError)
            #expect(cv.lambdaMin == single.cv.lambdaMin && cv.lambda1se == single.cv.lambda1se)
            #expect(model.coefficients == single.model.coefficients)
            #expect(model.fit.penaltyLambda == single.cv.lambda1se && model.warnings == single.model.warnings)
        }
    }

    @Test func aFoldCountAboveTheCustomersFailsEveryRankWithOneMessage() throws {
        let path = try Self.mixedFile(rows: 30, seed: 2)
        let messages = try onRanks(2) { group -> String in
            var clock = Timings()
            do {
                let spec = FitSpec(roles: ColumnRoles(target: "churned", id: "customer"),
                                   estimator: Estimator(penalty: .l1, crossValidation: .init(folds: 11, seed: 1, select: .min)))
                _ = try DistributedPipeline.fit(spec, group: group, dataPaths: [path], timings: &clock)
                return "fitted"
            } catch { return "\(error)" }
        }
        #expect(messages[0] == messages[1] && messages[0].contains("--folds between 2 and 10"))
    }
}
