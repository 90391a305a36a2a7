using DbtRelay.Delivery;
using DbtRelay.Delivery.Ledger;
using DbtRelay.Events;
using DbtRelay.InProcess;
using DbtRelay.Sqlite;
using DbtRelay.Tests.Fakes;
using DbtRelay.Webhooks;
using Microsoft.Data.Sqlite;

namespace DbtRelay.Tests.Sqlite;

/// <summary>The embedded database as serve uses it: queues with due times and leases, the ledger, dead letters.</summary>
public sealed class SqliteStoreTests : IAsyncLifetime
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"relay-store-{Guid.NewGuid():N}", "relay.db");
    private readonly ManualTimeProvider _time = new();
    private SqliteDatabase _database = null!;

    public Task InitializeAsync()
    {
        _database = SqliteDatabase.Open(_path);
        return Task.CompletedTask;
    }

    private SqliteRelayQueues Queues() => new(_database, _time);

    private static DeliveryMessage Delivery(string eventId, string target = "crm") => new()
    {
        Target = target,
        Attempt = 1,
        FirstQueuedAt = DateTimeOffset.UtcNow,
        Event = new EventEnvelope { EventId = eventId, EventType = "job.run.completed", Webhook = "prod", ReceivedAt = DateTimeOffset.UtcNow, Body = "{}"u8.ToArray() },
    };

    /// <summary>Replaces the test's database with a file holding <paramref name="schema"/>, as an earlier version wrote it, opened now.</summary>
    private async Task OpenWrittenByAnEarlierVersionAsync(string suffix, string schema)
    {
        await _database.DisposeAsync();
        var old = _path + suffix;
        using (var connection = new SqliteConnection($"Data Source={old};Pooling=False"))
        {
            connection.Open();
            using var create = connection.CreateCommand();
            create.CommandText = schema;
            create.ExecuteNonQuery();
        }
        _database = SqliteDatabase.Open(old);
    }

    /// <summary>A message that should be there (bounded only so a broken build cannot hang).</summary>
    private static async Task<LeasedMessage> ReceiveNowAsync(IQueueConsumer queues, string queue) =>
        await ReceiveWithinAsync(queues, queue, TimeSpan.FromSeconds(10)) ?? throw new Xunit.Sdk.XunitException($"nothing due on {queue}");

    /// <summary>Null unless a message is due within a short wait: for messages that must not be there.</summary>
    private static Task<LeasedMessage?> NothingDueAsync(IQueueConsumer queues, string queue) =>
        ReceiveWithinAsync(queues, queue, TimeSpan.FromMilliseconds(300));

    private static async Task<LeasedMessage?> ReceiveWithinAsync(IQueueConsumer queues, string queue, TimeSpan within)
    {
        using var soon = new CancellationTokenSource(within);
        try
        {
            return await queues.ReceiveAsync(queue, soon.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    [Fact]
    public async Task A_ledger_written_by_the_earlier_without_rowid_layout_is_kept_when_the_database_is_opened()
    {
        await OpenWrittenByAnEarlierVersionAsync(".old.db", """
            CREATE TABLE ledger (key TEXT PRIMARY KEY, content BLOB NOT NULL, version INTEGER NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;
            CREATE INDEX ledger_updated ON ledger (updated_at);
            INSERT INTO ledger VALUES ('delivered/wev_before/crm', CAST('{"state":"completed","detail":"syncId s9"}' AS BLOB), 1, 0);
            """);
        var claim = await new ConditionalLedger(new SqliteConditionalStore(_database, _time), _time).TryClaimAsync("delivered/wev_before/crm", TimeSpan.FromMinutes(1), default);
        var schema = await _database.RunAsync(c => (string)SqliteDatabase.Command(c, "SELECT sql FROM sqlite_master WHERE name = 'ledger'").ExecuteScalar()!, default);

        Assert.Equal((ClaimStatus.Completed, "syncId s9"), (claim.Status, claim.Detail));
        Assert.DoesNotContain("WITHOUT ROWID", schema, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public Task The_delivery_history_in_the_database_lists_newest_first_and_keeps_concurrent_attempts() =>
        HistoryScenario.RunAsync(new SqliteConditionalStore(_database, _time));

    [Fact]
    public async Task Of_many_concurrent_claimants_on_the_database_exactly_one_wins_and_completion_is_final()
    {
        var ledger = new ConditionalLedger(new SqliteConditionalStore(_database, _time), _time);

        var claims = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(async () => await ledger.TryClaimAsync("delivered/wev_1/crm", TimeSpan.FromMinutes(1), default))));
        var winner = Assert.Single(claims, c => c.Status == ClaimStatus.Claimed);
        await ledger.CompleteAsync(winner, "syncId s1", default);
        var after = await ledger.TryClaimAsync("delivered/wev_1/crm", TimeSpan.FromMinutes(1), default);

        Assert.Equal((ClaimStatus.Completed, "syncId s1"), (after.Status, after.Detail));
    }

    [Fact]
    public async Task A_retry_is_received_only_once_its_delay_has_passed()
    {
        var queues = Queues();
        await queues.EnqueueDeliveryAsync(Delivery("wev_later"), TimeSpan.FromSeconds(10), default);

        var early = await NothingDueAsync(queues, QueueNames.Deliveries);
        var waiting = queues.ReceiveAsync(QueueNames.Deliveries, default).AsTask();
        await Eventually.True(() => _time.PendingDelays().Contains(TimeSpan.FromSeconds(10)));
        _time.Advance(TimeSpan.FromSeconds(10));
        var due = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Null(early);
        Assert.Equal("wev_later", DeliveryJson.DeserializeDelivery(due!.Body).Event.EventId);
        Assert.Equal(0, await queues.CountDelayedAsync(default));
    }

    [Fact]
    public async Task A_message_released_after_failures_counts_them_and_a_poisoned_one_is_kept_aside_for_good()
    {
        var queues = Queues();
        await queues.EnqueueDeliveryAsync(Delivery("wev_poison"), TimeSpan.Zero, default);
        await queues.ReleaseAsync(await ReceiveNowAsync(queues, QueueNames.Deliveries), TimeSpan.Zero, default);
        await queues.ReleaseAsync(await ReceiveNowAsync(queues, QueueNames.Deliveries), TimeSpan.Zero, default);
        var third = await ReceiveNowAsync(queues, QueueNames.Deliveries);

        await queues.PoisonAsync(third, default);
        await _database.DisposeAsync();
        _database = SqliteDatabase.Open(_path);
        queues = Queues();

        Assert.Equal(2, third.Failures);
        Assert.Null(await NothingDueAsync(queues, QueueNames.Deliveries));
        Assert.False(await queues.HasDueOrLeasedAsync(default)); // a drain does not wait for it
        Assert.Equal(0, await queues.CountDelayedAsync(default));
        var poisoned = Assert.Single(await _database.RunAsync(c =>
        {
            var rows = new List<(string Queue, long Failures)>();
            using var reader = SqliteDatabase.Command(c, "SELECT queue, failures FROM messages").ExecuteReader();
            while (reader.Read()) rows.Add((reader.GetString(0), reader.GetInt64(1)));
            return rows;
        }, default));
        Assert.Equal(("dbt-deliveries-poison", 3L), poisoned);
    }

    [Fact]
    public async Task A_message_leased_by_a_process_that_died_is_received_again_after_reopening()
    {
        await Queues().EnqueueDeliveryAsync(Delivery("wev_inflight"), TimeSpan.Zero, default);
        var leased = await ReceiveNowAsync(Queues(), QueueNames.Deliveries);
        var notTwice = await NothingDueAsync(Queues(), QueueNames.Deliveries);

        await _database.DisposeAsync(); // the process "dies" without completing it
        _database = SqliteDatabase.Open(_path);
        var again = await ReceiveNowAsync(Queues(), QueueNames.Deliveries);

        Assert.Null(notTwice);
        Assert.Equal(leased.Body.ToArray(), again.Body.ToArray());
    }

    [Fact]
    public async Task A_ledger_lease_held_by_a_process_that_died_is_taken_over_at_once_after_reopening_and_completions_stay()
    {
        var ledger = new ConditionalLedger(new SqliteConditionalStore(_database, _time), _time);
        await ledger.TryClaimAsync("delivered/wev_inflight/crm", TimeSpan.FromMinutes(90), default);
        var done = await ledger.TryClaimAsync("delivered/wev_done/crm", TimeSpan.FromMinutes(90), default);
        await ledger.CompleteAsync(done, "syncId s9", default);

        await _database.DisposeAsync(); // killed mid-call: the lease is never released
        _database = SqliteDatabase.Open(_path);
        var reopened = new ConditionalLedger(new SqliteConditionalStore(_database, _time), _time);

        var inflight = await reopened.TryClaimAsync("delivered/wev_inflight/crm", TimeSpan.FromMinutes(1), default);
        Assert.Equal((ClaimStatus.Claimed, true), (inflight.Status, inflight.TakenOver));
        Assert.Equal(ClaimStatus.Completed, (await reopened.TryClaimAsync("delivered/wev_done/crm", TimeSpan.FromMinutes(1), default)).Status);
    }

    [Fact]
    public async Task Accepted_events_and_delayed_retries_survive_closing_and_reopening()
    {
        var queues = Queues();
        var body = DbtPayloads.Bytes(DbtPayloads.Completed(eventId: "wev_kept"));
        var envelope = EventEnvelope.From(new DbtEventFacts("wev_kept", "job.run.completed", 1, null, "1", "2", null, null, "Success", 10), "prod", _time.GetUtcNow(), body);
        await queues.StoreAsync(new Accepted(envelope, EventJson.Serialize(envelope)), default);
        await queues.EnqueueDeliveryAsync(Delivery("wev_retry"), TimeSpan.FromMinutes(5), default);

        await _database.DisposeAsync();
        _database = SqliteDatabase.Open(_path);
        var reopened = Queues();
        var routed = await ReceiveNowAsync(reopened, QueueNames.Events);

        Assert.Equal(body, EventJson.DeserializeEnvelope(routed.Body).SignedBody());
        Assert.Equal(1, await reopened.CountDelayedAsync(default));
    }

    [Fact]
    public async Task A_second_process_cannot_open_the_same_database_until_the_first_closes_it()
    {
        var refused = Assert.ThrowsAny<IOException>(() => SqliteDatabase.Open(_path));

        await _database.DisposeAsync();
        _database = SqliteDatabase.Open(_path);

        Assert.NotNull(refused);
    }

    [Fact]
    public void A_file_that_is_not_a_database_is_refused_at_open_with_sqlites_reason()
    {
        var path = Path.Combine(Path.GetDirectoryName(_path)!, "not-a.db");
        File.WriteAllText(path, new string('x', 8192));

        var error = Assert.Throws<SqliteException>(() => SqliteDatabase.Open(path));

        Assert.Contains("not a database", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Dead_letters_replay_one_by_event_and_target_atomically_onto_the_delivery_queue()
    {
        var queues = Queues();
        foreach (var (eventId, target) in new[] { ("wev_a", "crm"), ("wev_b", "crm") })
        {
            await queues.DeadLetterAsync(new DeadLetter { Delivery = Delivery(eventId, target), Reason = "HTTP 400", FailedAt = _time.GetUtcNow() }, default);
        }

        var replayed = await queues.ReplayAsync(10, new EventAndTarget("wev_b", "crm"), default);
        var left = await queues.ListAsync(10, default);
        var delivery = await ReceiveNowAsync(queues, QueueNames.Deliveries);

        Assert.Equal(1, replayed);
        Assert.Equal("wev_a", Assert.Single(left).EventId);
        Assert.Equal("wev_b", DeliveryJson.DeserializeDelivery(delivery.Body).Event.EventId);
    }

    [Fact]
    public async Task Dead_letters_are_kept_90_days_with_a_daily_warning_in_their_last_week_then_pruned()
    {
        var queues = Queues();
        var logs = new LogCapture();
        var retention = new SqliteRetention(_database, _time, TimeSpan.FromDays(30), logs.For<SqliteRetention>());
        await queues.DeadLetterAsync(new DeadLetter { Delivery = Delivery("wev_old"), Reason = "HTTP 400", FailedAt = _time.GetUtcNow() }, default);
        _time.Advance(TimeSpan.FromDays(60));
        await queues.DeadLetterAsync(new DeadLetter { Delivery = Delivery("wev_new"), Reason = "HTTP 400", FailedAt = _time.GetUtcNow() }, default);

        _time.Advance(TimeSpan.FromDays(22)); // wev_old is 82 days old: no warning yet
        await retention.WarnAboutDeadLettersDueAsync(default);
        var quietBefore = logs.AllText;
        _time.Advance(TimeSpan.FromDays(2));  // 84 days: in its last week
        await retention.WarnAboutDeadLettersDueAsync(default);
        await retention.WarnAboutDeadLettersDueAsync(default); // once a day, not every hour
        var prunedEarly = await retention.PruneDeadLettersAsync(default);
        _time.Advance(TimeSpan.FromDays(7));  // 91 days
        var pruned = await retention.PruneDeadLettersAsync(default);

        Assert.DoesNotContain("will be pruned", quietBefore, StringComparison.Ordinal);
        Assert.Single(logs.AllText.Split('\n'), l => l.Contains("1 dead letter(s) will be pruned within 7 days", StringComparison.Ordinal));
        Assert.Equal((0, 1), (prunedEarly, pruned));
        Assert.Equal("wev_new", Assert.Single(await queues.ListAsync(10, default)).EventId);
    }

    [Fact]
    public async Task Dead_letters_written_before_they_had_a_time_count_from_the_upgrade_not_from_1970()
    {
        await OpenWrittenByAnEarlierVersionAsync(".old-dead.db", """
            CREATE TABLE dead_letters (id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, target TEXT NOT NULL, body BLOB NOT NULL);
            INSERT INTO dead_letters (event_id, target, body) VALUES ('wev_kept', 'crm', CAST('{}' AS BLOB));
            """);
        var pruned = await new SqliteRetention(_database, TimeProvider.System, TimeSpan.FromDays(30), new LogCapture().For<SqliteRetention>()).PruneDeadLettersAsync(default);
        var failedAt = await _database.RunAsync(c => (long)SqliteDatabase.Command(c, "SELECT failed_at FROM dead_letters").ExecuteScalar()!, default);

        Assert.Equal(0, pruned);
        Assert.InRange(DateTimeOffset.FromUnixTimeMilliseconds(failedAt), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Ledger_entries_older_than_the_retention_window_are_pruned_and_newer_ones_kept()
    {
        var store = new SqliteConditionalStore(_database, _time);
        await store.TryCreateAsync("old", new BinaryData("{}"u8.ToArray()), default);
        _time.Advance(TimeSpan.FromDays(20));
        await store.TryCreateAsync("recent", new BinaryData("{}"u8.ToArray()), default);
        _time.Advance(TimeSpan.FromDays(11));

        var pruned = await new SqliteRetention(_database, _time, TimeSpan.FromDays(30), new LogCapture().For<SqliteRetention>()).PruneAsync(default);

        Assert.Equal(1, pruned);
        Assert.Null(await store.ReadAsync("old", default));
        Assert.NotNull(await store.ReadAsync("recent", default));
    }

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        Directory.Delete(Path.GetDirectoryName(_path)!, recursive: true);
    }
}
