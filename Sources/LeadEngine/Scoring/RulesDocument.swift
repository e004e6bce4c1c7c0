import Foundation
import LeadDomain
import LedgerJSON
import Yams

/// Reads a scoring-rules document from a YAML or JSON file (JSON is YAML too, but a `.json`
/// file is read by the strict JSON parser so that its errors name the column).
public enum RulesDocument {
    public struct Failure: Error, CustomStringConvertible {
        public let path: String
        public let message: String
        public var description: String { "\(path): \(message)" }
    }

    public static func load(path: String) throws -> ScoringRules {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Failure(path: path, message: "cannot read the rules file (\((error as NSError).localizedDescription))")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String = "<rules>") throws -> ScoringRules {
        let json: JSONValue
        if path.lowercased().hasSuffix(".json") {
            do {
                json = try JSONParser.parse(text)
            } catch {
                throw Failure(path: path, message: error.description)
            }
        } else {
            json = try yaml(text, path: path)
        }
        do {
            return try ScoringRules(document: json)
        } catch {
            throw Failure(path: path, message: error.description)
        }
    }

    /// YAML to the same JSON values the JSON parser gives.
    static func yaml(_ text: String, path: String) throws -> JSONValue {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw Failure(path: path, message: "not valid YAML: \(error)")
        }
        guard let root else { throw Failure(path: path, message: "the file is empty") }
        return try value(root, path: path)
    }

    private static func value(_ node: Node, path: String) throws -> JSONValue {
        switch node {
        case .scalar(let scalar):
            // The tag the resolver gave the plain scalar (quoted scalars are strings).
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case Tag.Name.int.rawValue: return node.int.map { .number(Double($0)) } ?? .string(scalar.string)
            case Tag.Name.float.rawValue:
                guard let number = node.float else { return .string(scalar.string) }
                // (The document is published as JSON, which has no infinities and no NaN.)
                guard number.isFinite else {
                    throw Failure(path: path, message: "line \((node.mark?.line).map(String.init) ?? "?"): \(scalar.string) is not a finite number")
                }
                return .number(number)
            default: return .string(scalar.string)
            }
        case .sequence(let sequence):
            return .array(try sequence.map { try value($0, path: path) })
        case .mapping(let mapping):
            var object = JSONObject()
            for (key, item) in mapping {
                guard case .scalar(let name) = key else {
                    throw Failure(path: path, message: "line \((key.mark?.line).map(String.init) ?? "?"): mapping keys must be plain names")
                }
                object[name.string] = try value(item, path: path)
            }
            return .object(object)
        case .alias:
            throw Failure(path: path, message: "YAML aliases are not supported in rules documents")
        }
    }
}
