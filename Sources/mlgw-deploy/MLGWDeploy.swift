import ArgumentParser

@main
struct MLGWDeploy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlgw-deploy",
        abstract: "Plan and apply declarative stacks for the ML gateway pattern on a local provider.",
        discussion: """
        A stack is a YAML file (or a folder of them) declaring the ML gateway pattern: models, \
        endpoints with weighted, shadow and rolling-out variants, Lambda-style functions, and an \
        API gateway with routes, API keys, usage plans and JWT authorizers. 'validate' checks it, \
        'plan' shows the exact changes, 'apply' makes them real as processes on this machine \
        (boto3 and the AWS CLI talk to them unchanged), 'destroy' removes everything, from the \
        state alone if need be.

        Quick start: mlgw-deploy apply stacks/quickstart.yaml --auto-approve, then \
        mlgw-deploy status stacks/quickstart.yaml. The stack format: docs/spec.md.
        """,
        version: "0.1.0",
        subcommands: [Validate.self, Plan.self, Apply.self, Destroy.self, Output.self, Status.self, Logs.self,
                      Ingest.self, Features.self, EventsCommand.self, ClockCommand.self, MonitorCommand.self, BaselineCommand.self, ScalingCommand.self, ExportCommand.self, UI.self, Graph.self, StateCommand.self, Env.self, Report.self, Schema.self, Serve.self]
    )
}
