import Foundation
import ScoringCore

public enum PMMLExport {
    public static func render(_ model: ModelArtifact, options: ExportOptions) throws -> String {
        throw ExportError("the PMML export is not written yet")
    }
}
