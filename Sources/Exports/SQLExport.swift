import Foundation
import ScoringCore

public enum SQLExport {
    public static func render(_ model: ModelArtifact, options: ExportOptions) throws -> String {
        throw ExportError("the SQL export is not written yet")
    }
}
