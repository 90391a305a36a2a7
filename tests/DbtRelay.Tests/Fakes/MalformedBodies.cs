namespace DbtRelay.Tests.Fakes;

/// <summary>
/// Signed bodies that are not exactly one strict JSON object whose strings all decode, by class. Intake must answer
/// 400 to each (never 202, never 500): an accepted event has to stay deliverable.
/// </summary>
internal static class MalformedBodies
{
    private const string Event = """{"eventId":"wev_m","eventType":"job.run.completed","data":{"jobId":"1","runId":"2"}}""";

    public static TheoryData<string, string> All => new()
    {
        { "lone high surrogate in eventId", """{"eventId":"wev_\ud800","eventType":"job.run.completed","data":{}}""" },
        { "lone low surrogate in data.jobId", """{"eventId":"wev_m","eventType":"job.run.completed","data":{"jobId":"12\udc00"}}""" },
        { "lone surrogate in a field routing skips", """{"eventId":"wev_m","eventType":"job.run.completed","data":{"jobName":"x\ud800y"}}""" },
        { "lone surrogate in a property name", """{"eventId":"wev_m","eventType":"job.run.completed","data":{"a\udbffb":1}}""" },
        { "lone surrogate deep in an array", """{"eventId":"wev_m","eventType":"job.run.completed","data":{"steps":[{"n":["\ud800"]}]}}""" },
        { "trailing bytes after the object", Event + "xyz" },
        { "a second object", Event + Event },
        { "a block comment", """{"eventId":"wev_m",/* hi */"eventType":"job.run.completed","data":{}}""" },
        { "a line comment", "{\"eventId\":\"wev_m\",\"eventType\":\"job.run.completed\",\"data\":{} // hi\n}" },
        { "a trailing comma in the object", """{"eventId":"wev_m","eventType":"job.run.completed","data":{},}""" },
        { "a trailing comma in a skipped array", """{"eventId":"wev_m","eventType":"job.run.completed","data":{"steps":[1,2,]}}""" },
        { "an unterminated object", """{"eventId":"wev_m","eventType":"job.run.completed","data":{}""" },
        { "single-quoted strings", """{'eventId':'wev_m','eventType':'job.run.completed','data':{}}""" },
        { "an eventId over 256 characters", $$$"""{"eventId":"wev_{{{new string('x', 253)}}}","eventType":"job.run.completed","data":{}}""" },
    };
}
