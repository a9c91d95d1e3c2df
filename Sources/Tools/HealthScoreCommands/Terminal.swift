import Foundation

/// Colour for people at a terminal, plain text for files, pipes and NO_COLOR (no-color.org).
enum Terminal {
    static let colours: Bool = {
        let env = ProcessInfo.processInfo.environment
        return isatty(STDOUT_FILENO) == 1 && env["NO_COLOR"] == nil && env["TERM"] != "dumb"
    }()

    /// A band label in its traffic-light colour: healthy green, at_risk yellow, unhealthy red (the
    /// default labels; other labels by the colour word they contain, else unchanged).
    static func band(_ text: String) -> String {
        guard colours else { return text }
        let label = text.trimmingCharacters(in: .whitespaces).lowercased()
        let code: String
        switch label {
        case "healthy", "good", "green": code = "32"
        case "at_risk", "at-risk", "yellow", "watch": code = "33"
        case "unhealthy", "poor", "red", "critical": code = "31"
        default: return text
        }
        return "\u{1B}[\(code);1m" + text + "\u{1B}[0m"
    }
}
