import Foundation

/// How a service spells its error responses.
public enum AWSErrorFormat: Sendable {
    /// `<Error><Code>…</Code><Message>…</Message>` (S3, and the query protocol of SNS).
    case xml
    /// `{"__type": "…#Code", "message": "…"}` (SQS JSON and DynamoDB), with SQS's
    /// `x-amzn-query-error: Code;Sender` header taking precedence when present. An XML error
    /// body is read as `.xml` reads it (moto answers authentication failures in XML).
    case json

    func parse(_ response: HTTPResponse, service: String, operation: String) -> AWSError {
        let requestId = response.headers["x-amzn-RequestId"] ?? response.headers["x-amz-request-id"]
        var code: String?
        var message: String?
        switch self {
        case .xml:
            let text = response.bodyText
            code = XMLText.firstValue(of: "Code", in: text)
            message = XMLText.firstValue(of: "Message", in: text)
        case .json:
            if let queryError = response.headers["x-amzn-query-error"], let first = queryError.split(separator: ";").first {
                code = String(first)
            }
            if let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] {
                if code == nil, let type = (object["__type"] ?? object["code"]) as? String {
                    code = type.split(separator: "#").last.map(String.init)
                }
                message = (object["message"] ?? object["Message"]) as? String
            } else if response.bodyText.hasPrefix("<") {
                let text = response.bodyText
                code = code ?? XMLText.firstValue(of: "Code", in: text)
                message = XMLText.firstValue(of: "Message", in: text)
            }
        }
        if code == nil, let headerCode = response.headers["x-amzn-ErrorType"] {
            code = headerCode.split(separator: ":").first.map(String.init)
        }
        let fallback: String =
            switch response.status {
            case 404: "NotFound"
            case 403: "Forbidden"
            case 500: "InternalError"
            case 503: "ServiceUnavailable"
            default: "HTTP\(response.status)"
            }
        let body = response.bodyText
        return AWSError(
            service: service, operation: operation, statusCode: response.status,
            code: code ?? fallback,
            message: message ?? (body.isEmpty ? "no error details" : String(body.prefix(300))),
            requestId: requestId)
    }
}
