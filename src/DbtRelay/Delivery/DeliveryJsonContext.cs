using System.Text.Json.Serialization;

namespace DbtRelay.Delivery;

[JsonSerializable(typeof(DeliveryMessage))]
[JsonSerializable(typeof(DeadLetter))]
[JsonSerializable(typeof(PauseRecord))]
[JsonSerializable(typeof(IReadOnlyList<PauseRecord>))]
[JsonSerializable(typeof(CoalescedEvents))]
[JsonSerializable(typeof(CoalesceWindow))]
internal sealed partial class DeliveryJsonContext : JsonSerializerContext;
