import EnvironmentAPI

/// A CloudWatch alarm's state.
public enum AlarmState: String, Sendable, Codable, Equatable {
    case ok = "OK"
    case alarm = "ALARM"
    case insufficientData = "INSUFFICIENT_DATA"
}

/// How CloudWatch decides an alarm's state from the datapoints of its evaluation range
/// (`evaluationPeriods` periods, the newest last; nil is a missing datapoint): ALARM when at
/// least `datapointsToAlarm` of them breach. Missing datapoints follow the treatment: when fewer
/// datapoints are present than `datapointsToAlarm`, `breaching` and `notBreaching` fill the
/// missing ones as breaching or not; `missing` and `ignore` decide on what is present (OK when a
/// present datapoint does not breach, else the state is kept: too few to alarm); with none
/// present, `missing` is INSUFFICIENT_DATA and `ignore` keeps the state. Periods before the
/// alarm existed are not part of its range. A fill value (metric
/// math's FILL) replaces every missing datapoint before anything else.
public enum AlarmEvaluation {
    public static func state(of values: [Double?], datapointsToAlarm m: Int, threshold: Double, comparison: AlarmComparison,
                             missingData: MissingDataTreatment, previous: AlarmState) -> (AlarmState, String) {
        let filled = missingData.fill.map { fill in values.map { $0 ?? fill } } ?? values
        let present = filled.compactMap { $0 }
        let breaching = present.filter { comparison.breaches($0, threshold) }.count
        let missing = filled.count - present.count
        let summary = "\(breaching) of the last \(filled.count) datapoints \(comparison.symbol) \(formatCapacityNumber(threshold))"
            + (missing > 0 ? ", \(missing) missing" : "")
        if present.isEmpty {
            switch missingData.treatment {
            case .missing: return (.insufficientData, "no datapoints in the last \(filled.count) periods")
            case .ignore: return (previous, "no datapoints in the last \(filled.count) periods; state kept")
            case .breaching: return (.alarm, "no datapoints in the last \(filled.count) periods, treated as breaching")
            case .notBreaching: return (.ok, "no datapoints in the last \(filled.count) periods, treated as not breaching")
            }
        }
        if present.count >= m { return (breaching >= m ? .alarm : .ok, summary) }
        if missing == 0 {
            // A range shorter than the datapoints to alarm (the alarm is new): too few to alarm.
            return (breaching == present.count ? previous : .ok, summary + (breaching == present.count ? "; state kept" : ""))
        }
        switch missingData.treatment {
        case .breaching: return (breaching + missing >= m ? .alarm : .ok, summary + " (treated as breaching)")
        case .notBreaching: return (breaching >= m ? .alarm : .ok, summary + " (treated as not breaching)")
        case .missing, .ignore: return (breaching == present.count ? previous : .ok, summary + (breaching == present.count ? "; state kept" : ""))
        }
    }
}
