import EnvironmentAPI
import Spec
import Testing

let functionHeader = validHeader + """
endpoints:
  fraud:
    variants: {main: {model: m1}}

"""

let gatewayValidationCases: [ValidationCase] = [
    ValidationCase(name: "function without runtime or command", yaml: functionHeader + """
        functions:
          f: {timeout: 3s}
        """, expected: ["9:6: function 'f' is missing required key 'runtime'|add 'runtime: python3'"]),
    ValidationCase(name: "handler not FILE.FUNCTION", yaml: functionHeader + """
        functions:
          f: {runtime: python3, handler: score}
        """, expected: ["9:34: 'handler' of function 'f' is 'score', not FILE.FUNCTION"]),
    ValidationCase(name: "handler file missing", yaml: functionHeader + """
        functions:
          f: {runtime: python3, handler: missing/score.handler}
        """, expected: ["9:34: handler file of function 'f'"]),
    ValidationCase(name: "provisioned above reserved", yaml: functionHeader + """
        functions:
          f: {runtime: python3, handler: score.handler, provisioned_concurrency: 4, reserved_concurrency: 2}
        """, expected: ["9:49: function 'f' provisions 4 workers but reserves only 2|raise 'reserved_concurrency'"]),
    ValidationCase(name: "async retries beyond Lambda's", yaml: functionHeader + """
        functions:
          f: {runtime: python3, handler: score.handler, async: {max_retries: 3}}
        """, expected: ["9:70: 'async.max_retries' of function 'f' must be between 0 and 2"]),
    ValidationCase(name: "API key written in clear", yaml: functionHeader + """
        gateway:
          api_keys:
            ci: {value: abcdefghijklmnopqrstuvwxyz}
        """, expected: ["10:17: the value of API key 'ci' is written in the stack in clear|sensitive variable"]),
    ValidationCase(name: "API key from a variable that is not sensitive", yaml: functionHeader + """
        variables:
          key: {type: string, default: abcdefghijklmnopqrstuvwxyz}
        gateway:
          api_keys:
            ci: {value: "${var.key}"}
        """, expected: ["12:17: the value of API key 'ci' comes from a variable that is not sensitive|sensitive: true"]),
    ValidationCase(name: "route to an undeclared endpoint suggests", yaml: functionHeader + """
        gateway:
          stages:
            v1:
              routes:
                POST /score: {endpoint: frad}
        """, expected: ["12:9: route 'POST /score' of stage 'v1' names undeclared endpoint 'frad'|did you mean 'fraud'?"]),
    ValidationCase(name: "route with two integrations", yaml: functionHeader + """
        gateway:
          stages:
            v1:
              routes:
                POST /score: {endpoint: fraud, mock: {status: 200}}
        """, expected: ["12:9: route 'POST /score' of stage 'v1' needs exactly one integration, has endpoint and mock"]),
    ValidationCase(name: "route key without a method", yaml: functionHeader + """
        gateway:
          stages:
            v1:
              routes:
                /score: {endpoint: fraud}
        """, expected: ["12:9: route '/score' is not METHOD /path"]),
    ValidationCase(name: "greedy segment not last", yaml: functionHeader + """
        gateway:
          stages:
            v1:
              routes:
                GET /a/{rest+}/b: {endpoint: fraud}
        """, expected: ["12:9: route 'GET /a/{rest+}/b' has a bad path segment '{rest+}'"]),
    ValidationCase(name: "routes matching the same requests", yaml: functionHeader + """
        gateway:
          stages:
            v1:
              routes:
                GET /items/{id}: {endpoint: fraud}
                GET /items/{name}: {endpoint: fraud}
        """, expected: ["13:9: route 'GET /items/{name}' of stage 'v1' matches the same requests as 'GET /items/{id}' at stack.yaml:12:9"]),
    ValidationCase(name: "JWT auth names an undeclared authorizer", yaml: functionHeader + """
        gateway:
          stages:
            v1:
              routes:
                POST /score: {endpoint: fraud, auth: {jwt: corp}}
        """, expected: ["12:52: route 'POST /score' of stage 'v1' uses authorizer 'corp', which 'gateway.authorizers' does not declare"]),
    ValidationCase(name: "usage plan with an unknown period and a key naming no plan", yaml: functionHeader + """
        variables:
          key: {type: string, sensitive: true, default: abcdefghijklmnopqrstuvwxyz}
        gateway:
          usage_plans:
            p: {quota: {limit: 10, period: year}}
          api_keys:
            ci: {value: "${var.key}", usage_plan: q}
        """, expected: ["12:36: 'quota.period' of usage plan 'p' is 'year'|day, week or month",
                        "14:43: API key 'ci' names undeclared usage plan 'q'|did you mean 'p'?"]),
]

@Test(arguments: gatewayValidationCases)
func gatewayAndFunctionValidation(_ c: ValidationCase) {
    validationReportsEveryProblem(c)
}

@Test func aGatewayStackLoadsWithItsEdgesAndHidesTheKey() throws {
    let (stack, diagnostics) = load(functionHeader + """
        variables:
          key: {type: string, sensitive: true, default: abcdefghijklmnopqrstuvwxyz}
        functions:
          score:
            runtime: python3
            handler: fn/score.handler
            environment: {ENDPOINT: "${endpoints.fraud.name}", URL: "${environment.aws_endpoint_url}"}
        gateway:
          usage_plans:
            p: {throttle: {rate: 5}, routes: {"v1 POST /score": {throttle: {rate: 1, burst: 2}}}}
          api_keys:
            ci: {value: "${var.key}", usage_plan: p}
          stages:
            v1:
              defaults: {auth: api_key, timeout: 2s}
              routes:
                POST /score: {endpoint: fraud, variant: {header: X-Variant}}
                POST /fn/{proxy+}: {function: score, payload: "1.0", auth: none}
        """)
    let s = try #require(stack, "\(diagnostics)")
    let f = try #require(s.resource(ResourceAddress(.function, "score"))?.function)
    #expect(f.environment.values == ["ENDPOINT": "fraud"])
    #expect(f.environment.deferredText == ["URL": "${environment.aws_endpoint_url}"])
    #expect(s.resource(ResourceAddress(.function, "score"))!.dependencies == [ResourceAddress(.endpoint, "fraud")])
    let stage = try #require(s.resource(ResourceAddress(.stage, "v1")))
    #expect(stage.dependencies == [ResourceAddress(.endpoint, "fraud"), ResourceAddress(.function, "score")])
    guard let v1 = stage.value(as: Stage.self) else { Issue.record("not a stage"); return }
    let score = try #require(v1.routes.first { $0.key == "POST /score" })
    #expect(score.integration == .endpoint(name: "fraud", variant: .header("x-variant"), targetModel: nil))
    #expect(score.authorization == .apiKey && score.timeout == 2)
    let proxy = try #require(v1.routes.first { $0.key == "POST /fn/{proxy+}" })
    #expect(proxy.integration == .function(name: "score", payload: .v1) && proxy.authorization == Authorization.none)
    let key = try #require(s.resource(ResourceAddress(.apiKey, "ci")))
    #expect(key.dependencies == [ResourceAddress(.usagePlan, "p")])
    guard case .sensitive? = key.attributes["value"] else { Issue.record("the key's value is not hidden: \(String(describing: key.attributes["value"]))"); return }
    #expect(!key.attributes.values.contains { $0.description.contains("abcdefghijklmnopqrstuvwxyz") })
    guard let plan = s.resource(ResourceAddress(.usagePlan, "p"))?.value(as: UsagePlan.self) else { Issue.record("not a usage plan"); return }
    #expect(plan.throttle == Throttle(rate: 5, burst: 5))
    #expect(plan.routeThrottles == ["v1 POST /score": Throttle(rate: 1, burst: 2)])
}
