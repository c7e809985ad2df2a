import EnvironmentAPI
import Events
import Foundation
import Spec

/// A stack as one CloudFormation template: each kind mapped to its cloud twin (docs/export.md is
/// the mapping, kind by kind). What the local provider knows only as files on this machine
/// (model artifacts, function code, baselines, capture and offline-store folders) becomes a
/// parameter for its S3 location; what has no twin at all is an error naming the resource and the
/// reason, or a warning saying what was left out, never dropped silently. Pure: no file I/O.
public enum CloudFormationExport {
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var address: String
        public var message: String
        public var description: String { "\(address): \(message)" }
    }

    public struct Result: Sendable {
        public var template: String
        public var warnings: [Problem]
        public var errors: [Problem]
        public var resourceCount: Int
    }

    /// `packagedKeys`: for `--package`, each function's code key in the code bucket (the
    /// parameter's default).
    public static func export(_ stack: Stack, packagedKeys: [String: String] = [:]) -> Result {
        var b = Builder(stack: stack, packagedKeys: packagedKeys)
        b.build()
        return Result(template: CFN.render(b.template()), warnings: b.warnings, errors: b.errors, resourceCount: b.resources.count)
    }
}

struct Builder {
    let stack: Stack
    let packagedKeys: [String: String]
    var parameters: [(String, JSONValue)] = []
    var resources: [(String, JSONValue)] = []
    var outputs: [(String, JSONValue)] = []
    var warnings: [CloudFormationExport.Problem] = []
    var errors: [CloudFormationExport.Problem] = []
    var used: Set<String> = []
    var ids: [ResourceAddress: String] = [:]
    var roles: Set<String> = []

    init(stack: Stack, packagedKeys: [String: String]) {
        self.stack = stack
        self.packagedKeys = packagedKeys
    }

    mutating func warn(_ a: ResourceAddress, _ m: String) { warnings.append(.init(address: a.description, message: m)) }
    mutating func warn(_ label: String, _ m: String) { warnings.append(.init(address: label, message: m)) }
    mutating func fail(_ a: ResourceAddress, _ m: String) { errors.append(.init(address: a.description, message: m)) }

    /// A unique logical ID: `prefix` + the name in PascalCase, numbered when taken.
    mutating func id(_ prefix: String, _ name: String) -> String {
        var base = prefix + CFN.pascal(name)
        if base.count > 200 { base = String(base.prefix(200)) }
        var candidate = base, n = 2
        while used.contains(candidate) { candidate = base + String(n); n += 1 }
        used.insert(candidate)
        return candidate
    }

    mutating func id(of address: ResourceAddress) -> String {
        if let known = ids[address] { return known }
        let prefix: String
        switch address.kind {
        case .model: prefix = "Model"
        case .featureGroup: prefix = "FeatureGroup"
        case .endpoint: prefix = "Endpoint"
        case .function: prefix = "Function"
        case .stage: prefix = "Stage"
        case .apiKey: prefix = "ApiKey"
        case .usagePlan: prefix = "UsagePlan"
        case .eventRule: prefix = "Rule"
        case .monitor: prefix = "Monitor"
        case .scalingPolicy: prefix = "ScalableTarget"
        }
        let made = id(prefix, address.name)
        ids[address] = made
        return made
    }

    mutating func parameter(_ name: String, _ description: String, default value: String? = nil, noEcho: Bool = false, pattern: String? = nil) -> JSONValue {
        if !parameters.contains(where: { $0.0 == name }) {
            parameters.append((name, CFN.obj([("Type", CFN.str("String")), ("Description", CFN.str(description)),
                                              ("Default", value.map(CFN.str)), ("NoEcho", noEcho ? .bool(true) : nil),
                                              ("AllowedPattern", pattern.map(CFN.str)), ("MinLength", noEcho ? CFN.int(20) : nil)])))
        }
        return CFN.ref(name)
    }

    mutating func resource(_ id: String, _ type: String, _ properties: [(String, JSONValue?)], dependsOn: [String] = []) {
        resources.append((id, CFN.obj([("Type", CFN.str(type)), ("DependsOn", dependsOn.isEmpty ? nil : CFN.list(dependsOn.map(CFN.str))),
                                       ("Properties", CFN.obj(properties))])))
    }

    func template() -> JSONValue {
        CFN.obj([
            ("AWSTemplateFormatVersion", CFN.str("2010-09-09")),
            ("Description", CFN.str(stack.description ?? "mlgw-deploy stack \(stack.name)")),
            ("Metadata", CFN.obj([("mlgw-deploy", CFN.obj([("stack", CFN.str(stack.name)),
                                                           ("warnings", CFN.list(warnings.map { CFN.str($0.description) }))]))])),
            ("Parameters", parameters.isEmpty ? nil : .object(parameters.map { JSONValue.Member($0.0, $0.1) })),
            ("Resources", .object(resources.map { JSONValue.Member($0.0, $0.1) })),
            ("Outputs", outputs.isEmpty ? nil : .object(outputs.map { JSONValue.Member($0.0, $0.1) })),
        ])
    }

    func values<T: ResourceDefinition>(_ type: T.Type) -> [T] {
        stack.resources.compactMap { $0.value(as: T.self) }.sorted { $0.name < $1.name }
    }

    // MARK: the walk

    mutating func build() {
        if stack.local.port != nil || stack.local.gatewayPort != nil || stack.local.healthTimeoutSeconds != 60 {
            warn("local", "local settings (ports, health timeout) are this machine's only; they are not exported")
        }
        // Logical IDs first, so references between kinds resolve whatever the order.
        for r in stack.resources.sorted(by: { $0.address < $1.address }) { _ = id(of: r.address) }
        for m in values(Model.self) { model(m) }
        for g in values(FeatureGroup.self) { featureGroup(g) }
        for e in values(Endpoint.self) { endpoint(e) }
        for f in values(Function.self) { function(f) }
        gateway()
        for r in values(EventRule.self) { eventRule(r) }
        for m in values(Monitor.self) { monitor(m) }
        for p in values(ScalingPolicy.self) { scaling(p) }
        for o in stack.outputs { output(o) }
        rolesNeeded()
        if resources.count > 500 {
            warn("stack", "the template has \(resources.count) resources; CloudFormation takes at most 500 in one template: split the stack into several (nested stacks are not generated)")
        }
    }

    // MARK: roles

    mutating func role(_ name: String) -> JSONValue {
        roles.insert(name)
        return CFN.getAtt(name, "Arn")
    }

    mutating func rolesNeeded() {
        func assume(_ service: String) -> JSONValue {
            CFN.obj([("Version", CFN.str("2012-10-17")), ("Statement", CFN.list([CFN.obj([
                ("Effect", CFN.str("Allow")), ("Principal", CFN.obj([("Service", CFN.str(service))])), ("Action", CFN.str("sts:AssumeRole"))])]))])
        }
        func policy(_ name: String, _ actions: [String]) -> JSONValue {
            CFN.list([CFN.obj([("PolicyName", CFN.str(name)), ("PolicyDocument", CFN.obj([
                ("Version", CFN.str("2012-10-17")),
                ("Statement", CFN.list([CFN.obj([("Effect", CFN.str("Allow")), ("Action", CFN.list(actions.map(CFN.str))), ("Resource", CFN.str("*"))])]))]))])])
        }
        if roles.contains("SageMakerExecutionRole") {
            resource("SageMakerExecutionRole", "AWS::IAM::Role", [
                ("AssumeRolePolicyDocument", assume("sagemaker.amazonaws.com")),
                ("ManagedPolicyArns", CFN.list([CFN.sub("arn:${AWS::Partition}:iam::aws:policy/AmazonSageMakerFullAccess")])),
                ("Policies", policy("artifacts-and-stores", ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:GetBucketAcl", "s3:PutObjectAcl",
                                                             "glue:CreateTable", "glue:GetTable", "glue:UpdateTable"])),
            ])
        }
        if roles.contains("LambdaExecutionRole") {
            resource("LambdaExecutionRole", "AWS::IAM::Role", [
                ("AssumeRolePolicyDocument", assume("lambda.amazonaws.com")),
                ("ManagedPolicyArns", CFN.list([CFN.sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")])),
                ("Policies", policy("endpoints-features-events", ["sagemaker:InvokeEndpoint", "sagemaker:PutRecord", "sagemaker:GetRecord",
                                                                  "sagemaker:BatchGetRecord", "sagemaker:DeleteRecord", "events:PutEvents", "s3:GetObject", "s3:PutObject"])),
            ])
        }
        if roles.contains("ApiGatewayInvokeRole") {
            resource("ApiGatewayInvokeRole", "AWS::IAM::Role", [
                ("AssumeRolePolicyDocument", assume("apigateway.amazonaws.com")),
                ("Policies", policy("invoke-endpoints", ["sagemaker:InvokeEndpoint"])),
            ])
        }
        if roles.contains("SchedulerRole") {
            resource("SchedulerRole", "AWS::IAM::Role", [
                ("AssumeRolePolicyDocument", assume("scheduler.amazonaws.com")),
                ("Policies", policy("scheduled-targets", ["lambda:InvokeFunction", "sagemaker:InvokeEndpoint"])),
            ])
        }
    }

    // MARK: models

    mutating func image(for runtime: Model.Runtime?, _ address: ResourceAddress, command: [String]?) -> JSONValue {
        if runtime == .xgboost {
            return parameter("XGBoostImage", "The regional SageMaker XGBoost image, as 683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1")
        }
        let name = "ModelImage" + CFN.pascal(address.name)
        let what = command.map { "it runs its own server (\($0.joined(separator: " ")))" } ?? "the built-in \(runtime?.rawValue ?? "linear") runtime has no SageMaker image"
        warn(address, "\(what): give an image that serves it in the parameter \(name)")
        return parameter(name, "An ECR image for \(address)")
    }

    mutating func model(_ m: Model) {
        let a = ResourceAddress(.model, m.name)
        var env: [(String, JSONValue?)] = []
        for (k, v) in m.environment.values.sorted(by: { $0.key < $1.key }) { env.append((k, CFN.str(v))) }
        for k in m.environment.deferred.keys.sorted() { env.append((k, deferred(m.environment.deferred[k]!, in: a.description, key: "environment \(k)"))) }
        env = env.filter { $0.1 != nil }
        let data = m.artifact.map { artifact in
            parameter("ModelData\(CFN.pascal(m.name))", "S3 URL of the model.tar.gz for \(a) (local artifact: \(artifact))", pattern: "^s3://.+")
        }
        resource(id(of: a), "AWS::SageMaker::Model", [
            ("ModelName", CFN.str(m.name)),
            ("ExecutionRoleArn", role("SageMakerExecutionRole")),
            ("PrimaryContainer", CFN.obj([("Image", image(for: m.runtime, a, command: m.command)), ("ModelDataUrl", data),
                                          ("Environment", env.isEmpty ? nil : CFN.obj(env))])),
        ])
        if m.probe != nil || m.startupTimeout != nil {
            warn(a, "its probe and startup timeout are the local health check's; SageMaker checks /ping with its own limits")
        }
    }

    /// A `${...}` value in the cloud's terms (an `Fn::Sub`), or nil (with a warning) when it
    /// reads something the cloud has no twin of.
    mutating func deferred(_ template: Template, in owner: String, key: String) -> JSONValue? {
        var text = ""
        for part in template.parts {
            switch part {
            case .text(let t): text += t.replacingOccurrences(of: "${", with: "${!")
            case .expression(let e):
                guard case .reference(let path) = e, path.count >= 2 else {
                    warn(owner, "\(key) computes a value known only after apply; it is left out")
                    return nil
                }
                if path[0] == "environment" {
                    warn(owner, "\(key) reads the local environment's \(path.dropFirst().joined(separator: ".")), which the cloud does not have (the AWS SDK finds AWS by itself); it is left out")
                    return nil
                }
                guard let kind = ResourceKind(rawValue: path[0]), let target = ids[ResourceAddress(kind, path[1])] else {
                    warn(owner, "\(key) references \(path.joined(separator: ".")), which is not exported; it is left out")
                    return nil
                }
                let attribute = path.count > 2 ? path[2] : "name"
                switch (kind, attribute) {
                case (.endpoint, "name"): text += "${\(target).EndpointName}"
                case (.endpoint, "url"): text += "https://runtime.sagemaker.${AWS::Region}.amazonaws.com/endpoints/${\(target).EndpointName}/invocations"
                case (.function, "name"), (.featureGroup, "name"): text += "${\(target)}"
                case (.function, "arn"): text += "${\(target).Arn}"
                case (.featureGroup, "arn"): text += "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:feature-group/${\(target)}"
                case (.model, "name"): text += "${\(target).ModelName}"
                case (.stage, "url"): text += "https://${\(target)Api}.execute-api.${AWS::Region}.amazonaws.com/\(path[1])"
                case (.eventRule, "arn"): text += "${\(target).Arn}"
                default:
                    warn(owner, "\(key) references \(path.joined(separator: ".")), which has no cloud twin; it is left out")
                    return nil
                }
            }
        }
        return CFN.sub(text)
    }

    // MARK: feature groups

    mutating func featureGroup(_ g: FeatureGroup) {
        let a = ResourceAddress(.featureGroup, g.name)
        let definitions = g.features.map { f in
            CFN.obj([("FeatureName", CFN.str(f.name)), ("FeatureType", CFN.str(f.type.rawValue)),
                     ("CollectionType", f.collection.map { CFN.str($0.rawValue) }),
                     ("CollectionConfig", f.dimension.map { CFN.obj([("VectorConfig", CFN.obj([("Dimension", CFN.int($0))]))]) })])
        }
        var online: JSONValue?
        if g.online {
            var ttl: JSONValue?
            if let s = g.ttlSeconds {
                let units: [(String, Double)] = [("Weeks", 604_800), ("Days", 86_400), ("Hours", 3_600), ("Minutes", 60), ("Seconds", 1)]
                let (unit, size) = units.first { s.truncatingRemainder(dividingBy: $0.1) == 0 } ?? ("Seconds", 1)
                ttl = CFN.obj([("Unit", CFN.str(unit)), ("Value", CFN.int(Int(s / size)))])
            }
            online = CFN.obj([("EnableOnlineStore", .bool(true)), ("TtlDuration", ttl)])
            if g.postgresURL != nil { warn(a, "its PostgreSQL online store is local; SageMaker's online store takes its place") }
        }
        let offline = g.offline ? CFN.obj([("S3StorageConfig", CFN.obj([("S3Uri", parameter("OfflineStoreS3Uri", "S3 URI for feature groups' offline stores", pattern: "^s3://.+"))]))]) : nil
        if !g.load.isEmpty { warn(a, "its load files (\(g.load.joined(separator: ", "))) are loaded at a local apply only; ingest them with PutRecord after the stack is created") }
        resource(id(of: a), "AWS::SageMaker::FeatureGroup", [
            ("FeatureGroupName", CFN.str(g.name)),
            ("RecordIdentifierFeatureName", CFN.str(g.recordIdentifier)),
            ("EventTimeFeatureName", CFN.str(g.eventTime)),
            ("FeatureDefinitions", CFN.list(definitions)),
            ("OnlineStoreConfig", online),
            ("OfflineStoreConfig", offline),
            ("RoleArn", offline != nil ? role("SageMakerExecutionRole") : nil),
            ("Description", g.description.map(CFN.str)),
        ])
    }

    // MARK: endpoints

    mutating func endpoint(_ e: Endpoint) {
        let a = ResourceAddress(.endpoint, e.name)
        let endpointID = id(of: a), configID = id("EndpointConfig", e.name)
        let instanceType = parameter("InstanceType", "The instance type of every production variant", default: "ml.m5.large", pattern: "^ml\\..+")
        var production: [JSONValue] = [], shadow: [JSONValue] = []
        if let mm = e.multiModel {
            let modelID = id("MultiModel", e.name)
            var image: JSONValue
            if let s = mm.server {
                warn(a, "its multi-model server is model '\(s)': give its image in ModelImage\(CFN.pascal(s))")
                image = parameter("ModelImage\(CFN.pascal(s))", "An ECR image for models.\(s)")
            } else {
                image = self.image(for: mm.runtime, a, command: nil)
            }
            resource(modelID, "AWS::SageMaker::Model", [
                ("ExecutionRoleArn", role("SageMakerExecutionRole")),
                ("PrimaryContainer", CFN.obj([("Image", image), ("Mode", CFN.str("MultiModel")),
                                              ("ModelDataUrl", parameter("ModelPrefix\(CFN.pascal(e.name))", "S3 prefix of the models of \(a) (local folder: \(mm.artifacts))", pattern: "^s3://.+/$"))])),
            ])
            warn(a, "its cache settings (models, memory) are the local server's; SageMaker manages its multi-model cache itself")
            production.append(CFN.obj([("VariantName", CFN.str("AllTraffic")), ("ModelName", CFN.getAtt(modelID, "ModelName")),
                                       ("InitialInstanceCount", CFN.int(mm.instances)), ("InstanceType", instanceType), ("InitialVariantWeight", CFN.num(1))]))
        }
        let total = e.variants.filter { $0.shadowSamplePercent == nil }.reduce(0) { $0 + $1.weight }
        for v in e.variants {
            guard let model = ids[ResourceAddress(.model, v.model)] else { continue }
            let weight = v.shadowSamplePercent.map { max(total, 1) * $0 / 100 } ?? v.weight
            let variant = CFN.obj([("VariantName", CFN.str(v.name)), ("ModelName", CFN.getAtt(model, "ModelName")), ("InitialInstanceCount", CFN.int(v.instances)),
                                   ("InstanceType", instanceType), ("InitialVariantWeight", CFN.num(weight))])
            // A shadow's weight is its share of the production traffic it receives a copy of.
            if v.shadowSamplePercent != nil { shadow.append(variant) } else { production.append(variant) }
        }
        var capture: JSONValue?
        if let c = e.dataCapture {
            capture = CFN.obj([
                ("EnableCapture", .bool(true)), ("InitialSamplingPercentage", CFN.int(Int(c.samplePercent.rounded()))),
                ("DestinationS3Uri", parameter("CaptureS3Uri", "S3 URI endpoints capture their requests and answers to", pattern: "^s3://.+")),
                ("CaptureOptions", CFN.list(c.modes.map { CFN.obj([("CaptureMode", CFN.str($0 == .input ? "Input" : "Output"))]) })),
                ("CaptureContentTypeHeader", CFN.obj([("CsvContentTypes", CFN.list(c.csvContentTypes.map(CFN.str))), ("JsonContentTypes", CFN.list(c.jsonContentTypes.map(CFN.str)))])),
            ])
            if c.samplePercent != c.samplePercent.rounded() { warn(a, "its sampling percentage \(c.samplePercent) is rounded to a whole percent") }
        }
        resource(configID, "AWS::SageMaker::EndpointConfig", [
            ("ProductionVariants", CFN.list(production)),
            ("ShadowProductionVariants", shadow.isEmpty ? nil : CFN.list(shadow)),
            ("DataCaptureConfig", capture),
        ])
        var deployment: JSONValue?
        if let v = e.variants.first(where: { $0.rollout != nil }), let r = v.rollout {
            deployment = rolloutDeployment(r, variant: v.name, endpoint: e.name, address: a)
        }
        resource(endpointID, "AWS::SageMaker::Endpoint", [
            ("EndpointName", CFN.str(e.name)), ("EndpointConfigName", CFN.getAtt(configID, "EndpointConfigName")), ("DeploymentConfig", deployment),
        ])
        outputs.append((endpointID + "Name", CFN.obj([("Description", CFN.str("The name of endpoint \(e.name)")), ("Value", CFN.getAtt(endpointID, "EndpointName"))])))
    }

    /// A rollout as the endpoint's blue/green deployment: two steps are a canary, evenly spaced
    /// steps linear traffic shifting; its limits become CloudWatch alarms that roll it back.
    mutating func rolloutDeployment(_ r: Rollout, variant: String, endpoint: String, address: ResourceAddress) -> JSONValue {
        let wait = CFN.int(max(0, min(3_600, Int(r.bakeSeconds))))
        let steps = r.steps
        var routing: JSONValue
        if steps.count == 2, steps.last == 100 {
            routing = CFN.obj([("Type", CFN.str("CANARY")), ("WaitIntervalInSeconds", wait),
                               ("CanarySize", CFN.obj([("Type", CFN.str("CAPACITY_PERCENT")), ("Value", CFN.int(Int(steps[0])))]))])
        } else {
            let size = steps[0]
            let even = steps.enumerated().allSatisfy { abs($0.element - size * Double($0.offset + 1)) < 1e-9 || $0.element == 100 }
            if !even { warn(address, "its rollout steps \(steps.map(formatCapacityNumber).joined(separator: ", ")) are exported as linear steps of \(formatCapacityNumber(size))%") }
            routing = CFN.obj([("Type", CFN.str(steps.count == 1 ? "ALL_AT_ONCE" : "LINEAR")), ("WaitIntervalInSeconds", wait),
                               ("LinearStepSize", steps.count == 1 ? nil : CFN.obj([("Type", CFN.str("CAPACITY_PERCENT")), ("Value", CFN.int(Int(size)))]))])
        }
        warn(address, "SageMaker's blue/green deployment shifts traffic from the old fleet to the new one on each update; variant \(variant)'s rollout becomes that traffic shifting")
        if r.bakeSeconds > 3_600 { warn(address, "its bake time is capped at SageMaker's 3600 s wait interval") }
        var alarms: [JSONValue] = []
        let dims = CFN.list([CFN.obj([("Name", CFN.str("EndpointName")), ("Value", CFN.str(endpoint))]), CFN.obj([("Name", CFN.str("VariantName")), ("Value", CFN.str(variant))])])
        if let rate = r.maxErrorRate {
            let alarmID = id("RollbackErrors", endpoint)
            func metric(_ id: String, _ name: String) -> JSONValue {
                CFN.obj([("Id", CFN.str(id)), ("ReturnData", .bool(false)), ("MetricStat", CFN.obj([
                    ("Metric", CFN.obj([("Namespace", CFN.str("AWS/SageMaker")), ("MetricName", CFN.str(name)), ("Dimensions", dims)])),
                    ("Period", CFN.int(60)), ("Stat", CFN.str("Sum"))]))])
            }
            resource(alarmID, "AWS::CloudWatch::Alarm", [
                ("AlarmDescription", CFN.str("Rolls back \(endpoint)'s deployment when variant \(variant)'s error rate exceeds \(formatCapacityNumber(rate))")),
                ("ComparisonOperator", CFN.str("GreaterThanThreshold")), ("EvaluationPeriods", CFN.int(1)), ("Threshold", CFN.num(rate)),
                ("TreatMissingData", CFN.str("notBreaching")),
                ("Metrics", CFN.list([metric("errors", "Invocation5XXErrors"), metric("requests", "Invocations"),
                                      CFN.obj([("Id", CFN.str("rate")), ("Expression", CFN.str("errors / requests")), ("ReturnData", .bool(true))])])),
            ])
            alarms.append(CFN.obj([("AlarmName", CFN.ref(alarmID))]))
        }
        if let p99 = r.maxP99LatencyMs {
            let alarmID = id("RollbackLatency", endpoint)
            resource(alarmID, "AWS::CloudWatch::Alarm", [
                ("AlarmDescription", CFN.str("Rolls back \(endpoint)'s deployment when variant \(variant)'s p99 model latency exceeds \(formatCapacityNumber(p99)) ms")),
                ("Namespace", CFN.str("AWS/SageMaker")), ("MetricName", CFN.str("ModelLatency")), ("Dimensions", dims), ("ExtendedStatistic", CFN.str("p99")),
                ("Period", CFN.int(60)), ("EvaluationPeriods", CFN.int(1)), ("Threshold", CFN.num(p99 * 1_000)),
                ("ComparisonOperator", CFN.str("GreaterThanThreshold")), ("TreatMissingData", CFN.str("notBreaching")),
            ])
            alarms.append(CFN.obj([("AlarmName", CFN.ref(alarmID))]))
        }
        let timeout = min(28_800, max(600, Int(r.bakeSeconds) * (steps.count + 1) + 600))
        return CFN.obj([
            ("BlueGreenUpdatePolicy", CFN.obj([("TrafficRoutingConfiguration", routing), ("MaximumExecutionTimeoutInSeconds", CFN.int(timeout))])),
            ("AutoRollbackConfiguration", alarms.isEmpty ? nil : CFN.obj([("Alarms", CFN.list(alarms))])),
        ])
    }

    // MARK: functions

    mutating func function(_ f: Function) {
        let a = ResourceAddress(.function, f.name)
        let fid = id(of: a)
        var env: [(String, JSONValue?)] = []
        for (k, v) in f.environment.values.sorted(by: { $0.key < $1.key }) { env.append((k, CFN.str(v))) }
        for k in f.environment.deferred.keys.sorted() { env.append((k, deferred(f.environment.deferred[k]!, in: a.description, key: "environment \(k)"))) }
        env = env.filter { $0.1 != nil }
        var props: [(String, JSONValue?)] = [("FunctionName", CFN.str(f.name))]
        if let handler = f.handler {
            let bucket = parameter("FunctionCodeBucket", "The S3 bucket holding the functions' code zips (mlgw-deploy export --package DIR writes them)")
            let key = parameter("FunctionCode\(CFN.pascal(f.name))", "S3 key of the zip of \(a)'s code (local folder: \(f.code ?? "."))", default: packagedKeys[f.name])
            props += [("Runtime", CFN.str("python3.12")), ("Handler", CFN.str(handler)), ("Code", CFN.obj([("S3Bucket", bucket), ("S3Key", key)]))]
        } else {
            warn(a, "it runs a command (\((f.command ?? []).joined(separator: " "))): exported as a container image in FunctionImage\(CFN.pascal(f.name)) that implements the Runtime API")
            props += [("PackageType", CFN.str("Image")),
                      ("Code", CFN.obj([("ImageUri", parameter("FunctionImage\(CFN.pascal(f.name))", "An ECR image for \(a)"))]))]
        }
        props += [
            ("Role", role("LambdaExecutionRole")),
            ("Timeout", CFN.int(Int(f.timeout.rounded(.up)))),
            ("MemorySize", CFN.int(max(128, f.memoryMB))),
            ("ReservedConcurrentExecutions", CFN.int(f.reservedConcurrency)),
            ("Environment", env.isEmpty ? nil : CFN.obj([("Variables", CFN.obj(env))])),
            ("Description", f.description.map(CFN.str)),
        ]
        resource(fid, "AWS::Lambda::Function", props)
        // Provisioned concurrency lives on a version's alias; a scaling policy scales the alias.
        let scaled = values(ScalingPolicy.self).contains { $0.target.function == f.name }
        if f.provisionedConcurrency > 0 || scaled {
            resource(fid + "Version", "AWS::Lambda::Version", [("FunctionName", CFN.ref(fid))])
            resource(fid + "Alias", "AWS::Lambda::Alias", [
                ("FunctionName", CFN.ref(fid)), ("FunctionVersion", CFN.getAtt(fid + "Version", "Version")), ("Name", CFN.str("live")),
                ("ProvisionedConcurrencyConfig", CFN.obj([("ProvisionedConcurrentExecutions", CFN.int(max(1, f.provisionedConcurrency)))])),
            ])
        }
        let age = Int(f.async.maxEventAge)
        if age > 21_600 || age < 60 { warn(a, "its maximum event age \(age)s is kept within Lambda's 60 to 21600 s") }
        if f.async.maxRetries > 2 { warn(a, "its \(f.async.maxRetries) retries are kept to Lambda's 2") }
        resource(fid + "EventInvokeConfig", "AWS::Lambda::EventInvokeConfig", [
            ("FunctionName", CFN.ref(fid)), ("Qualifier", CFN.str("$LATEST")),
            ("MaximumRetryAttempts", CFN.int(min(2, f.async.maxRetries))), ("MaximumEventAgeInSeconds", CFN.int(min(21_600, max(60, age)))),
        ])
        if f.async.retryDelay != 1 { warn(a, "its retry delay is local; Lambda waits about one and then two minutes between retries") }
    }

    // MARK: the gateway

    mutating func gateway() {
        let stages = values(Stage.self)
        for s in stages { stage(s) }
        for p in values(UsagePlan.self) { usagePlan(p, stages: stages) }
        for k in values(APIKey.self) { apiKey(k) }
    }

    mutating func stage(_ s: Stage) {
        let a = ResourceAddress(.stage, s.name)
        let sid = id(of: a)
        let jwtRoutes = s.routes.filter { if case .jwt = $0.authorization { return true } else { return false } }
        let restRoutes = s.routes.filter { if case .jwt = $0.authorization { return false } else { return true } }
        if !restRoutes.isEmpty { restAPI(s, routes: restRoutes, id: sid, address: a) }
        if !jwtRoutes.isEmpty { httpAPI(s, routes: jwtRoutes, id: sid + (restRoutes.isEmpty ? "" : "Jwt"), address: a) }
        if s.maxBodyBytes != 10 * 1024 * 1024 { warn(a, "its body limit is local; API Gateway's is 10 MB") }
    }

    static func pathID(_ path: String) -> String {
        let cleaned = path.replacingOccurrences(of: "{", with: "").replacingOccurrences(of: "}", with: "")
        return cleaned.split(separator: "/").isEmpty ? "root" : cleaned
    }

    mutating func restAPI(_ s: Stage, routes: [RouteConfiguration], id sid: String, address a: ResourceAddress) {
        let api = sid + "Api"
        resource(api, "AWS::ApiGateway::RestApi", [("Name", CFN.str("\(stack.name)-\(s.name)")),
                                                   ("EndpointConfiguration", CFN.obj([("Types", CFN.list([CFN.str("REGIONAL")]))]))])
        var resourceIDs: [String: String] = [:]
        func parent(_ segments: ArraySlice<Substring>, builder: inout Builder) -> JSONValue {
            guard let last = segments.last else { return CFN.getAtt(api, "RootResourceId") }
            let path = segments.joined(separator: "/")
            if let known = resourceIDs[path] { return CFN.ref(known) }
            let up = parent(segments.dropLast(), builder: &builder)
            let rid = builder.id(sid + "Path", Builder.pathID(path))
            builder.resource(rid, "AWS::ApiGateway::Resource", [("RestApiId", CFN.ref(api)), ("ParentId", up), ("PathPart", CFN.str(String(last)))])
            resourceIDs[path] = rid
            return CFN.ref(rid)
        }
        var methods: [String] = []
        var settings: [JSONValue] = []
        for r in routes {
            let segments = r.path.split(separator: "/")
            let resourceRef = parent(segments[...], builder: &self)
            let mid = id(sid + "Method" + CFN.pascal(r.method.lowercased()), Builder.pathID(r.path))
            var integration: JSONValue
            var requestParameters: [(String, JSONValue?)] = []
            var methodResponses: JSONValue?
            let timeout = CFN.int(min(29_000, max(50, Int(r.timeout * 1_000))))
            if r.timeout > 29 { warn(a, "route \(r.key): its timeout is capped at API Gateway's 29 s") }
            switch r.integration {
            case .endpoint(let name, let variant, let targetModel):
                guard let e = ids[ResourceAddress(.endpoint, name)] else { continue }
                var params: [(String, JSONValue?)] = []
                for (header, selector) in [("X-Amzn-SageMaker-Target-Variant", variant), ("X-Amzn-SageMaker-Target-Model", targetModel)] {
                    switch selector {
                    case .fixed(let v)?: params.append(("integration.request.header.\(header)", CFN.str("'\(v)'")))
                    case .pathParameter(let p)?:
                        params.append(("integration.request.header.\(header)", CFN.str("method.request.path.\(p)")))
                        requestParameters.append(("method.request.path.\(p)", .bool(true)))
                    case .header(let h)?:
                        params.append(("integration.request.header.\(header)", CFN.str("method.request.header.\(h)")))
                        requestParameters.append(("method.request.header.\(h)", .bool(false)))
                    case nil: break
                    }
                }
                if let enrich = r.enrich {
                    warn(a, "route \(r.key) enriches requests from feature group '\(enrich.group)', which API Gateway cannot do: exported as a direct endpoint call (callers send every feature); a function that reads the features is the cloud's way")
                }
                integration = CFN.obj([("Type", CFN.str("AWS")), ("IntegrationHttpMethod", CFN.str("POST")),
                                       ("Uri", CFN.sub("arn:aws:apigateway:${AWS::Region}:runtime.sagemaker:path//endpoints/${\(e).EndpointName}/invocations")),
                                       ("Credentials", role("ApiGatewayInvokeRole")), ("PassthroughBehavior", CFN.str("WHEN_NO_MATCH")),
                                       ("TimeoutInMillis", timeout), ("RequestParameters", params.isEmpty ? nil : CFN.obj(params)),
                                       ("IntegrationResponses", CFN.list([CFN.obj([("StatusCode", CFN.str("200"))])]))])
                methodResponses = CFN.list([CFN.obj([("StatusCode", CFN.str("200"))])])
            case .function(let name, _):
                guard let f = ids[ResourceAddress(.function, name)] else { continue }
                integration = CFN.obj([("Type", CFN.str("AWS_PROXY")), ("IntegrationHttpMethod", CFN.str("POST")),
                                       ("Uri", CFN.sub("arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${\(f).Arn}/invocations")),
                                       ("TimeoutInMillis", timeout)])
                apiGatewayPermission(function: f, api: api, route: sid + " " + r.key)
            case .mock(let status, let contentType, let body):
                integration = CFN.obj([("Type", CFN.str("MOCK")), ("RequestTemplates", CFN.obj([("application/json", CFN.str("{\"statusCode\": \(status)}"))])),
                                       ("IntegrationResponses", CFN.list([CFN.obj([("StatusCode", CFN.str(String(status))),
                                                                                  ("ResponseTemplates", CFN.obj([(contentType, CFN.str(body))]))])]))])
                methodResponses = CFN.list([CFN.obj([("StatusCode", CFN.str(String(status)))])])
            }
            methods.append(mid)
            resource(mid, "AWS::ApiGateway::Method", [
                ("RestApiId", CFN.ref(api)), ("ResourceId", resourceRef), ("HttpMethod", CFN.str(r.method)),
                ("AuthorizationType", CFN.str("NONE")), ("ApiKeyRequired", r.authorization == .apiKey ? .bool(true) : nil),
                ("RequestParameters", requestParameters.isEmpty ? nil : CFN.obj(requestParameters)),
                ("Integration", integration), ("MethodResponses", methodResponses),
            ])
            if let t = r.throttle {
                settings.append(CFN.obj([("ResourcePath", CFN.str("/" + r.path.split(separator: "/").joined(separator: "~1"))), ("HttpMethod", CFN.str(r.method)),
                                         ("ThrottlingRateLimit", CFN.num(t.rate)), ("ThrottlingBurstLimit", CFN.int(t.burst))]))
            }
        }
        if let t = s.throttle {
            settings.insert(CFN.obj([("ResourcePath", CFN.str("/*")), ("HttpMethod", CFN.str("*")), ("ThrottlingRateLimit", CFN.num(t.rate)),
                                     ("ThrottlingBurstLimit", CFN.int(t.burst))]), at: 0)
        }
        if s.cors != nil { warn(a, "its CORS settings are not exported for the REST API: add OPTIONS methods (the JWT routes' HTTP API has them)") }
        resource(sid + "Deployment", "AWS::ApiGateway::Deployment", [("RestApiId", CFN.ref(api))], dependsOn: methods)
        resource(sid, "AWS::ApiGateway::Stage", [("RestApiId", CFN.ref(api)), ("StageName", CFN.str(s.name)), ("DeploymentId", CFN.ref(sid + "Deployment")),
                                                 ("Description", s.description.map(CFN.str)), ("MethodSettings", settings.isEmpty ? nil : CFN.list(settings))])
        outputs.append((sid + "Url", CFN.obj([("Description", CFN.str("The URL of stage \(s.name)")),
                                              ("Value", CFN.sub("https://${\(api)}.execute-api.${AWS::Region}.amazonaws.com/\(s.name)"))])))
    }

    mutating func httpAPI(_ s: Stage, routes: [RouteConfiguration], id sid: String, address a: ResourceAddress) {
        let api = sid + "Api"
        var cors: JSONValue?
        if let c = s.cors {
            cors = CFN.obj([("AllowOrigins", CFN.list(c.allowOrigins.map(CFN.str))), ("AllowMethods", CFN.list(c.allowMethods.map(CFN.str))),
                            ("AllowHeaders", CFN.list(c.allowHeaders.map(CFN.str))), ("ExposeHeaders", c.exposeHeaders.isEmpty ? nil : CFN.list(c.exposeHeaders.map(CFN.str))),
                            ("MaxAge", c.maxAge.map(CFN.int))])
        }
        resource(api, "AWS::ApiGatewayV2::Api", [("Name", CFN.str("\(stack.name)-\(s.name)")), ("ProtocolType", CFN.str("HTTP")), ("CorsConfiguration", cors)])
        var authorizerIDs: [String: String] = [:]
        for auth in s.authorizers {
            let aid = id(sid + "Authorizer", auth.name)
            authorizerIDs[auth.name] = aid
            resource(aid, "AWS::ApiGatewayV2::Authorizer", [
                ("ApiId", CFN.ref(api)), ("AuthorizerType", CFN.str("JWT")), ("Name", CFN.str(auth.name)),
                ("IdentitySource", CFN.list([CFN.str("$request.header.Authorization")])),
                ("JwtConfiguration", CFN.obj([("Audience", CFN.list(auth.audiences.map(CFN.str))), ("Issuer", CFN.str(auth.issuer))])),
            ])
            if auth.jwksFile != nil { warn(a, "authorizer \(auth.name) reads its keys from a local JWKS file; API Gateway fetches them from the issuer's discovery document") }
        }
        for r in routes {
            guard case .jwt(let authorizer, let scopes) = r.authorization else { continue }
            var target: JSONValue?
            switch r.integration {
            case .function(let name, let payload):
                guard let f = ids[ResourceAddress(.function, name)] else { continue }
                let iid = id(sid + "Integration", r.key)
                resource(iid, "AWS::ApiGatewayV2::Integration", [("ApiId", CFN.ref(api)), ("IntegrationType", CFN.str("AWS_PROXY")),
                                                                  ("IntegrationUri", CFN.getAtt(f, "Arn")), ("PayloadFormatVersion", CFN.str(payload.rawValue)),
                                                                  ("TimeoutInMillis", CFN.int(min(30_000, max(50, Int(r.timeout * 1_000)))))])
                apiGatewayPermission(function: f, api: api, route: sid + " " + r.key)
                target = CFN.sub("integrations/${\(iid)}")
            case .endpoint:
                fail(a, "route \(r.key) calls an endpoint behind a JWT authorizer: an HTTP API (the API Gateway with JWT authorizers) cannot call SageMaker directly; route it through a function")
                continue
            case .mock:
                fail(a, "route \(r.key) is a mock behind a JWT authorizer: an HTTP API has no mock integration; use a function")
                continue
            }
            resource(id(sid + "Route", r.key), "AWS::ApiGatewayV2::Route", [
                ("ApiId", CFN.ref(api)), ("RouteKey", CFN.str("\(r.method) \(r.path.hasPrefix("/") ? r.path : "/" + r.path)")), ("AuthorizationType", CFN.str("JWT")),
                ("AuthorizerId", authorizerIDs[authorizer].map(CFN.ref)), ("AuthorizationScopes", scopes.isEmpty ? nil : CFN.list(scopes.map(CFN.str))), ("Target", target),
            ])
        }
        resource(sid + "HttpStage", "AWS::ApiGatewayV2::Stage", [("ApiId", CFN.ref(api)), ("StageName", CFN.str(s.name)), ("AutoDeploy", .bool(true)),
                                                                  ("DefaultRouteSettings", s.throttle.map { CFN.obj([("ThrottlingRateLimit", CFN.num($0.rate)), ("ThrottlingBurstLimit", CFN.int($0.burst))]) })])
        outputs.append((sid + "HttpUrl", CFN.obj([("Description", CFN.str("The URL of stage \(s.name)'s JWT routes")),
                                                  ("Value", CFN.sub("https://${\(api)}.execute-api.${AWS::Region}.amazonaws.com/\(s.name)"))])))
    }

    /// Lets API Gateway (either kind of API) call a function.
    mutating func apiGatewayPermission(function f: String, api: String, route: String) {
        resource(id(f + "Permission", route), "AWS::Lambda::Permission", [
            ("Action", CFN.str("lambda:InvokeFunction")), ("FunctionName", CFN.getAtt(f, "Arn")), ("Principal", CFN.str("apigateway.amazonaws.com")),
            ("SourceArn", CFN.sub("arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${\(api)}/*")),
        ])
    }

    mutating func usagePlan(_ p: UsagePlan, stages: [Stage]) {
        let a = ResourceAddress(.usagePlan, p.name)
        var apiStages: [JSONValue] = []
        for s in stages where p.stages.isEmpty || p.stages.contains(s.name) {
            guard let sid = ids[ResourceAddress(.stage, s.name)], resources.contains(where: { $0.0 == sid }) else { continue }
            let throttles = p.routeThrottles.filter { $0.key.hasPrefix(s.name + " ") }.sorted { $0.key < $1.key }.map { key, t -> (String, JSONValue?) in
                let parts = key.split(separator: " ")
                let path = parts.count > 2 ? String(parts[2]) : "/"
                return ("\(path.hasPrefix("/") ? path : "/" + path)/\(parts.count > 1 ? parts[1] : "*")",
                        CFN.obj([("RateLimit", CFN.num(t.rate)), ("BurstLimit", CFN.int(t.burst))]))
            }
            apiStages.append(CFN.obj([("ApiId", CFN.ref(sid + "Api")), ("Stage", CFN.ref(sid)), ("Throttle", throttles.isEmpty ? nil : CFN.obj(throttles))]))
        }
        resource(id(of: a), "AWS::ApiGateway::UsagePlan", [
            ("UsagePlanName", CFN.str(p.name)),
            ("ApiStages", apiStages.isEmpty ? nil : CFN.list(apiStages)),
            ("Throttle", p.throttle.map { CFN.obj([("RateLimit", CFN.num($0.rate)), ("BurstLimit", CFN.int($0.burst))]) }),
            ("Quota", p.quotaLimit.map { CFN.obj([("Limit", CFN.int($0)), ("Period", CFN.str((p.quotaPeriod ?? .day).rawValue.uppercased()))]) }),
        ])
    }

    mutating func apiKey(_ k: APIKey) {
        let a = ResourceAddress(.apiKey, k.name)
        let kid = id(of: a)
        // The key's value is a secret: a NoEcho parameter, never in the template.
        resource(kid, "AWS::ApiGateway::ApiKey", [("Name", CFN.str(k.name)), ("Enabled", .bool(k.enabled)),
                                                  ("Value", parameter("ApiKeyValue\(CFN.pascal(k.name))", "The value of API key \(k.name) (sensitive)", noEcho: true))])
        if let plan = k.usagePlan, let pid = ids[ResourceAddress(.usagePlan, plan)] {
            resource(kid + "UsagePlanKey", "AWS::ApiGateway::UsagePlanKey", [("KeyId", CFN.ref(kid)), ("KeyType", CFN.str("API_KEY")), ("UsagePlanId", CFN.ref(pid))])
        }
    }

    // MARK: event rules

    mutating func eventRule(_ r: EventRule) {
        let a = ResourceAddress(.eventRule, r.name)
        let rid = id(of: a)
        if let schedule = r.schedule, r.timeZone != nil || schedule.hasPrefix("at(") || r.targets.contains(where: { $0.kind == .endpoint }) {
            // Time zones, one-time schedules and SDK targets are EventBridge Scheduler's.
            for (i, t) in r.targets.enumerated() {
                guard let target = schedulerTarget(t, rule: r, address: a) else { continue }
                resource(r.targets.count == 1 ? rid : rid + String(i + 1), "AWS::Scheduler::Schedule", [
                    ("Name", CFN.str(r.targets.count == 1 ? r.name : "\(r.name)-\(i + 1)")), ("ScheduleExpression", CFN.str(schedule)),
                    ("ScheduleExpressionTimezone", r.timeZone.map(CFN.str)), ("FlexibleTimeWindow", CFN.obj([("Mode", CFN.str("OFF"))])),
                    ("State", CFN.str(r.enabled ? "ENABLED" : "DISABLED")), ("Description", r.description.map(CFN.str)), ("Target", target),
                ])
            }
            return
        }
        var targets: [JSONValue] = []
        for t in r.targets {
            var arn: JSONValue
            switch t.kind {
            case .function:
                guard let f = ids[ResourceAddress(.function, t.target)] else { continue }
                arn = CFN.getAtt(f, "Arn")
                resource(id(f + "Permission", "rule " + r.name), "AWS::Lambda::Permission", [
                    ("Action", CFN.str("lambda:InvokeFunction")), ("FunctionName", CFN.getAtt(f, "Arn")), ("Principal", CFN.str("events.amazonaws.com")),
                    ("SourceArn", CFN.getAtt(rid, "Arn")),
                ])
            case .log:
                let lid = id(rid + "Log", t.id)
                resource(lid, "AWS::Logs::LogGroup", [("LogGroupName", CFN.str("/aws/events/\(r.name)")), ("RetentionInDays", CFN.int(14))])
                arn = CFN.getAtt(lid, "Arn")
                warn(a, "its log target needs a CloudWatch Logs resource policy that lets events.amazonaws.com write to /aws/events/*")
            case .endpoint:
                fail(a, "target \(t.id) calls endpoint '\(t.target)' on events: EventBridge rules cannot invoke a SageMaker endpoint; route the event through a function")
                continue
            case .url:
                fail(a, "target \(t.id) posts to \(t.target), a URL on this machine; the cloud has no twin of it (an API destination needs a public URL)")
                continue
            case .command:
                fail(a, "target \(t.id) runs a command on this machine (\(t.command.joined(separator: " "))); the cloud has no twin of it: use a function")
                continue
            }
            let targetID = String(t.id.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "-" }.prefix(64))
            targets.append(CFN.obj([("Id", CFN.str(targetID)), ("Arn", arn)] + targetInput(t) + [
                ("RetryPolicy", CFN.obj([("MaximumRetryAttempts", CFN.int(max(0, min(185, t.maxAttempts - 1)))),
                                         ("MaximumEventAgeInSeconds", CFN.int(max(60, min(86_400, Int(t.maxEventAge)))))])),
                ("DeadLetterConfig", deadLetter(t, rule: rid, address: a)),
            ]))
        }
        var pattern: JSONValue?
        if let text = r.pattern { pattern = try? JSONParser.parse(text) }
        resource(rid, "AWS::Events::Rule", [
            ("Name", CFN.str(r.name)), ("Description", r.description.map(CFN.str)), ("EventPattern", pattern),
            ("ScheduleExpression", r.schedule.map(CFN.str)), ("State", CFN.str(r.enabled ? "ENABLED" : "DISABLED")),
            ("Targets", targets.isEmpty ? nil : CFN.list(targets)),
        ])
        if r.pattern?.contains("mlgw.") == true {
            warn(a, "its pattern matches mlgw-deploy's own events (source mlgw.*), which the cloud does not send: SageMaker's and EventBridge's own events take their place")
        }
    }

    func targetInput(_ t: EventTargetConfiguration) -> [(String, JSONValue?)] {
        switch t.input {
        case .event: return []
        case .constant: return [("Input", t.inputText.map(CFN.str))]
        case .path: return [("InputPath", t.inputText.map(CFN.str))]
        case .transformer:
            return [("InputTransformer", CFN.obj([("InputPathsMap", CFN.obj(t.inputPaths.sorted { $0.key < $1.key }.map { ($0.key, CFN.str($0.value)) })),
                                                  ("InputTemplate", CFN.str(t.template ?? ""))]))]
        }
    }

    mutating func deadLetter(_ t: EventTargetConfiguration, rule: String, address: ResourceAddress) -> JSONValue? {
        guard t.deadLetter != nil else { return nil }
        let qid = id(rule + "DeadLetters", t.id)
        resource(qid, "AWS::SQS::Queue", [("MessageRetentionPeriod", CFN.int(1_209_600))])
        warn(address, "target \(t.id)'s dead-letter file becomes an SQS queue (\(qid)); it needs a queue policy that lets events.amazonaws.com send to it")
        return CFN.obj([("Arn", CFN.getAtt(qid, "Arn"))])
    }

    mutating func schedulerTarget(_ t: EventTargetConfiguration, rule r: EventRule, address a: ResourceAddress) -> JSONValue? {
        let retry = CFN.obj([("MaximumRetryAttempts", CFN.int(max(0, min(185, t.maxAttempts - 1)))), ("MaximumEventAgeInSeconds", CFN.int(max(60, min(86_400, Int(t.maxEventAge)))))])
        var input: JSONValue?
        switch t.input {
        case .constant: input = t.inputText.map(CFN.str)
        case .event: input = nil
        case .path, .transformer: warn(a, "target \(t.id): a schedule's event has no fields to select; its input path or transformer is left out")
        }
        switch t.kind {
        case .function:
            guard let f = ids[ResourceAddress(.function, t.target)] else { return nil }
            return CFN.obj([("Arn", CFN.getAtt(f, "Arn")), ("RoleArn", role("SchedulerRole")), ("Input", input), ("RetryPolicy", retry)])
        case .endpoint:
            guard let e = ids[ResourceAddress(.endpoint, t.target)] else { return nil }
            // EventBridge Scheduler's universal target calls the SDK action itself.
            func quoted(_ s: String) -> String { JSONValue.string(s).text.replacingOccurrences(of: "${", with: "${!") }
            let body = "{\"EndpointName\": \"${\(e).EndpointName}\", \"ContentType\": \(quoted(t.contentType)), \"Body\": \(quoted(t.inputText ?? ""))}"
            return CFN.obj([("Arn", CFN.str("arn:aws:scheduler:::aws-sdk:sagemakerruntime:invokeEndpoint")), ("RoleArn", role("SchedulerRole")),
                            ("Input", CFN.sub(body)), ("RetryPolicy", retry)])
        case .log:
            fail(a, "target \(t.id) logs a schedule's firing; EventBridge Scheduler has no log target: use a function")
        case .url:
            fail(a, "target \(t.id) posts to \(t.target), a URL on this machine; the cloud has no twin of it")
        case .command:
            fail(a, "target \(t.id) runs a command on this machine (\(t.command.joined(separator: " "))); the cloud has no twin of it: use a function")
        }
        return nil
    }

    // MARK: monitors

    mutating func monitor(_ m: Monitor) {
        let a = ResourceAddress(.monitor, m.name)
        let mid = id(of: a)
        guard let endpoint = ids[ResourceAddress(.endpoint, m.endpoint)] else { return }
        guard let schedule = Self.monitorSchedule(m.schedule) else {
            fail(a, "its schedule \(m.schedule) is more often than hourly (or not whole hours); SageMaker monitoring schedules run hourly, every N hours or daily")
            return
        }
        let image = parameter("ModelMonitorImage", "The regional SageMaker Model Monitor analyzer image, as 156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer")
        let output = CFN.obj([("MonitoringOutputs", CFN.list([CFN.obj([("S3Output", CFN.obj([
            ("LocalPath", CFN.str("/opt/ml/processing/output")),
            ("S3Uri", parameter("MonitorOutputS3Uri", "S3 URI monitoring jobs write their reports to", pattern: "^s3://.+"))]))])]))])
        let resources = CFN.obj([("ClusterConfig", CFN.obj([("InstanceCount", CFN.int(1)), ("InstanceType", CFN.str("ml.m5.xlarge")), ("VolumeSizeInGB", CFN.int(20))]))])
        let endpointInput: [(String, JSONValue?)] = [("EndpointName", CFN.getAtt(endpoint, "EndpointName")), ("LocalPath", CFN.str("/opt/ml/processing/input"))]
        let constraints = parameter("MonitorConstraints\(CFN.pascal(m.name))", "S3 URI of \(a)'s baseline constraints.json", pattern: "^s3://.+")
        let definition = mid + "JobDefinition"
        let type: String
        if m.checkType == "model_quality" {
            type = "ModelQuality"
            let problem: String
            switch m.problemType {
            case "binary_classification": problem = "BinaryClassification"
            case "multiclass_classification": problem = "MulticlassClassification"
            default: problem = "Regression"
            }
            resource(definition, "AWS::SageMaker::ModelQualityJobDefinition", [
                ("ModelQualityAppSpecification", CFN.obj([("ImageUri", image), ("ProblemType", CFN.str(problem))])),
                ("ModelQualityBaselineConfig", CFN.obj([("ConstraintsResource", CFN.obj([("S3Uri", constraints)]))])),
                ("ModelQualityJobInput", CFN.obj([
                    ("EndpointInput", CFN.obj(endpointInput + [("ProbabilityThresholdAttribute", m.probabilityThreshold.map(CFN.num))])),
                    ("GroundTruthS3Input", CFN.obj([("S3Uri", parameter("MonitorGroundTruth\(CFN.pascal(m.name))", "S3 URI of \(a)'s ground truth (local folder: \(m.groundTruthWritten ?? ""))", pattern: "^s3://.+"))]))])),
                ("ModelQualityJobOutputConfig", output), ("JobResources", resources), ("RoleArn", role("SageMakerExecutionRole")),
            ])
        } else {
            type = "DataQuality"
            resource(definition, "AWS::SageMaker::DataQualityJobDefinition", [
                ("DataQualityAppSpecification", CFN.obj([("ImageUri", image)])),
                ("DataQualityBaselineConfig", CFN.obj([
                    ("ConstraintsResource", CFN.obj([("S3Uri", constraints)])),
                    ("StatisticsResource", CFN.obj([("S3Uri", parameter("MonitorStatistics\(CFN.pascal(m.name))", "S3 URI of \(a)'s baseline statistics.json", pattern: "^s3://.+"))]))])),
                ("DataQualityJobInput", CFN.obj([("EndpointInput", CFN.obj(endpointInput))])),
                ("DataQualityJobOutputConfig", output), ("JobResources", resources), ("RoleArn", role("SageMakerExecutionRole")),
            ])
            if m.baselineCSV != nil {
                warn(a, "its baseline is profiled from a CSV locally: upload data/monitors/\(m.name)/baseline/statistics.json and constraints.json (mlgw-deploy baseline writes them) for its parameters")
            }
            if m.method != nil || m.threshold != nil || m.features.contains(where: { $0.method != nil || $0.threshold != nil }) {
                warn(a, "its drift methods and thresholds are the local runs'; Model Monitor compares distributions with its own distance and the constraints' comparison_threshold")
            }
        }
        if m.window != nil { warn(a, "its window is local; a monitoring job reads the capture since its previous run") }
        resource(mid, "AWS::SageMaker::MonitoringSchedule", [
            ("MonitoringScheduleName", CFN.str(m.name)),
            ("MonitoringScheduleConfig", CFN.obj([("MonitoringJobDefinitionName", CFN.getAtt(definition, "JobDefinitionName")), ("MonitoringType", CFN.str(type)),
                                                  ("ScheduleConfig", CFN.obj([("ScheduleExpression", CFN.str(schedule))]))])),
        ], dependsOn: [endpoint])
        if !m.enabled { warn(a, "it is disabled: stop the monitoring schedule after the stack is created (CloudFormation creates it scheduled)") }
    }

    /// SageMaker's schedule forms: hourly, every N hours, daily.
    static func monitorSchedule(_ text: String) -> String? {
        guard let parsed = try? ScheduleExpression.parse(text) else { return nil }
        switch parsed {
        case .rate(let seconds):
            if seconds % 86_400 == 0 { return "cron(0 0 ? * * *)" }
            guard seconds % 3_600 == 0 else { return nil }
            let hours = seconds / 3_600
            return hours == 1 ? "cron(0 * ? * * *)" : "cron(0 */\(hours) ? * * *)"
        case .cron:
            return text
        case .at:
            return nil
        }
    }

    // MARK: scaling policies

    mutating func scaling(_ p: ScalingPolicy) {
        let a = ResourceAddress(.scalingPolicy, p.name)
        let tid = id(of: a)
        var resourceID: JSONValue
        var dependsOn: [String]
        var dimensions: JSONValue
        if let f = p.target.function {
            guard let fid = ids[ResourceAddress(.function, f)] else { return }
            resourceID = CFN.sub("function:${\(fid)}:live")
            dependsOn = [fid + "Alias"]
            dimensions = CFN.list([CFN.obj([("Name", CFN.str("FunctionName")), ("Value", CFN.ref(fid))]), CFN.obj([("Name", CFN.str("Resource")), ("Value", CFN.sub("${\(fid)}:live"))])])
        } else {
            guard let eid = ids[ResourceAddress(.endpoint, p.target.endpoint ?? "")] else { return }
            resourceID = CFN.sub("endpoint/${\(eid).EndpointName}/variant/\(p.target.variant ?? "")")
            dependsOn = []
            dimensions = CFN.list([CFN.obj([("Name", CFN.str("EndpointName")), ("Value", CFN.getAtt(eid, "EndpointName"))]),
                                   CFN.obj([("Name", CFN.str("VariantName")), ("Value", CFN.str(p.target.variant ?? ""))])])
        }
        let scheduled = p.scheduledActions.map { s in
            CFN.obj([("ScheduledActionName", CFN.str(s.name)), ("Schedule", CFN.str(s.schedule)), ("Timezone", s.timeZone.map(CFN.str)),
                     ("ScalableTargetAction", CFN.obj([("MinCapacity", s.minCapacity.map(CFN.int)), ("MaxCapacity", s.maxCapacity.map(CFN.int))]))])
        }
        resource(tid, "AWS::ApplicationAutoScaling::ScalableTarget", [
            ("ServiceNamespace", CFN.str(p.target.isFunction ? "lambda" : "sagemaker")), ("ScalableDimension", CFN.str(p.target.dimension)), ("ResourceId", resourceID),
            ("MinCapacity", CFN.int(p.minCapacity)), ("MaxCapacity", CFN.int(p.maxCapacity)),
            ("ScheduledActions", scheduled.isEmpty ? nil : CFN.list(scheduled)),
        ], dependsOn: dependsOn)
        for t in p.targetTracking {
            var spec: [(String, JSONValue?)] = [("TargetValue", CFN.num(t.targetValue)), ("DisableScaleIn", t.disableScaleIn ? .bool(true) : nil),
                                                ("ScaleInCooldown", CFN.int(Int(t.scaleInCooldown))), ("ScaleOutCooldown", CFN.int(Int(t.scaleOutCooldown)))]
            switch t.metric {
            case .invocationsPerInstance, .provisionedConcurrencyUtilization:
                spec.append(("PredefinedMetricSpecification", CFN.obj([("PredefinedMetricType", CFN.str(t.metric.rawValue))])))
            case .cpuUtilization, .modelLatency:
                // Customized metrics: CPU from the endpoint's instance metrics, latency from SageMaker's.
                let cpu = t.metric == .cpuUtilization
                spec.append(("CustomizedMetricSpecification", CFN.obj([("MetricName", CFN.str(cpu ? "CPUUtilization" : "ModelLatency")),
                                                                       ("Namespace", CFN.str(cpu ? "/aws/sagemaker/Endpoints" : "AWS/SageMaker")),
                                                                       ("Dimensions", dimensions), ("Statistic", CFN.str("Average"))])))
            }
            resource(id(tid + "TargetTracking", t.name), "AWS::ApplicationAutoScaling::ScalingPolicy", [
                ("PolicyName", CFN.str("\(p.name)-\(t.name)")), ("PolicyType", CFN.str("TargetTrackingScaling")), ("ScalingTargetId", CFN.ref(tid)),
                ("TargetTrackingScalingPolicyConfiguration", CFN.obj(spec)),
            ])
        }
        for s in p.stepScaling {
            let pid = id(tid + "Step", s.name)
            resource(pid, "AWS::ApplicationAutoScaling::ScalingPolicy", [
                ("PolicyName", CFN.str("\(p.name)-\(s.name)")), ("PolicyType", CFN.str("StepScaling")), ("ScalingTargetId", CFN.ref(tid)),
                ("StepScalingPolicyConfiguration", CFN.obj([
                    ("AdjustmentType", CFN.str(s.adjustmentType.rawValue)), ("Cooldown", CFN.int(Int(s.cooldown))),
                    ("MetricAggregationType", CFN.str(s.alarm.statistic == .maximum ? "Maximum" : s.alarm.statistic == .minimum ? "Minimum" : "Average")),
                    ("MinAdjustmentMagnitude", s.minAdjustmentMagnitude.map(CFN.int)),
                    ("StepAdjustments", CFN.list(s.steps.map { st in
                        CFN.obj([("MetricIntervalLowerBound", st.lower.map(CFN.num)), ("MetricIntervalUpperBound", st.upper.map(CFN.num)),
                                 ("ScalingAdjustment", CFN.int(st.adjustment))])
                    })),
                ])),
            ])
            alarm(s.alarm, policy: pid, dimensions: dimensions, function: p.target.isFunction, address: a)
        }
    }

    mutating func alarm(_ x: AlarmConfiguration, policy: String, dimensions: JSONValue, function: Bool, address a: ResourceAddress) {
        let namespace = function ? "AWS/Lambda" : (x.metric == .cpuUtilization ? "/aws/sagemaker/Endpoints" : "AWS/SageMaker")
        var props: [(String, JSONValue?)] = [
            ("AlarmName", CFN.str(x.name)), ("AlarmActions", CFN.list([CFN.ref(policy)])),
            ("ComparisonOperator", CFN.str(x.comparison.rawValue)), ("EvaluationPeriods", CFN.int(x.evaluationPeriods)),
            ("DatapointsToAlarm", CFN.int(x.datapointsToAlarm)), ("Threshold", CFN.num(x.threshold)),
        ]
        if let fill = x.missingData.fill {
            // The fill value is metric math's FILL: a period without data counts as it.
            props += [("TreatMissingData", CFN.str("missing")), ("Metrics", CFN.list([
                CFN.obj([("Id", CFN.str("m1")), ("ReturnData", .bool(false)), ("MetricStat", CFN.obj([
                    ("Metric", CFN.obj([("Namespace", CFN.str(namespace)), ("MetricName", CFN.str(x.metric.rawValue)), ("Dimensions", dimensions)])),
                    ("Period", CFN.int(x.period)), ("Stat", CFN.str(x.statistic.rawValue))]))]),
                CFN.obj([("Id", CFN.str("filled")), ("Expression", CFN.str("FILL(m1, \(formatCapacityNumber(fill)))")), ("ReturnData", .bool(true))]),
            ]))]
        } else {
            props += [("Namespace", CFN.str(namespace)), ("MetricName", CFN.str(x.metric.rawValue)), ("Dimensions", dimensions),
                      ("Statistic", CFN.str(x.statistic.rawValue)), ("Period", CFN.int(x.period)), ("TreatMissingData", CFN.str(x.missingData.treatment.rawValue))]
        }
        resource(id(policy + "Alarm", x.name), "AWS::CloudWatch::Alarm", props)
        if x.period < 60, !function { warn(a, "alarm \(x.name) uses a \(x.period)s period: SageMaker publishes one-minute metrics, so it sees one datapoint a minute") }
    }

    // MARK: outputs

    mutating func output(_ o: Output) {
        guard let value = deferred(o.value, in: "outputs.\(o.name)", key: "its value") else { return }
        outputs.append((id("Output", o.name), CFN.obj([("Description", CFN.str(o.description ?? "outputs.\(o.name)")), ("Value", value)])))
    }
}
