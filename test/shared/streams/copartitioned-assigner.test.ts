import { AssignerProtocol, type Assigner, type Cluster, type PartitionAssigner } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { copartitionedAssigner } from '../../../shared/streams/copartitioned-assigner.ts';

/** The assigner over a fake cluster whose topics have the given partition counts (ids 0..N-1). */
function assignerOver(partitionCounts: Record<string, number>): Assigner {
  const cluster = {
    findTopicPartitionMetadata: (topic: string) => {
      const count = partitionCounts[topic];
      if (count === undefined) throw new Error(`fake cluster: unknown topic ${topic}`);
      return Array.from({ length: count }, (_, partitionId) => ({
        partitionErrorCode: 0,
        partitionId,
        leader: 0,
        replicas: [0],
        isr: [0],
      }));
    },
  } as unknown as Cluster;
  return copartitionedAssigner({
    cluster,
    groupId: 'app',
    logger: undefined,
  } as unknown as Parameters<PartitionAssigner>[0]);
}

/** Group members that subscribed to `topics`, with the given ids (in that order). */
function membersOf(ids: readonly string[], topics: string[]) {
  return ids.map((memberId) => ({
    memberId,
    memberMetadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
  }));
}

/** Each member's decoded assignment: topic → partitions. */
async function assignments(
  assigner: Assigner,
  ids: readonly string[],
  topics: string[],
): Promise<Map<string, Record<string, number[]>>> {
  const result = await assigner.assign({ members: membersOf(ids, topics), topics });
  const out = new Map<string, Record<string, number[]>>();
  for (const { memberId, memberAssignment } of result) {
    const decoded = AssignerProtocol.MemberAssignment.decode(memberAssignment);
    expect(decoded, `${memberId}: a decodable assignment`).not.toBeNull();
    expect(decoded!.version).toBe(assigner.version);
    expect(out.has(memberId), `${memberId}: one assignment each`).toBe(false);
    out.set(memberId, decoded!.assignment);
  }
  return out;
}

/**
 * The invariants of a co-partitioned assignment: every partition of every topic goes to exactly one
 * member, partition p of every topic to the same member, and the members' shares differ by one at most.
 * Returns the partitions per member.
 */
function checkCopartitioned(
  byMember: ReadonlyMap<string, Record<string, number[]>>,
  topics: readonly string[],
  partitions: number,
): Map<string, number[]> {
  const ownerOf = new Map<number, string>();
  for (const topic of topics) {
    const owners = new Map<number, string[]>();
    for (const [member, assignment] of byMember) {
      for (const p of assignment[topic] ?? []) owners.set(p, [...(owners.get(p) ?? []), member]);
    }
    for (let p = 0; p < partitions; p++) {
      const owner = owners.get(p);
      expect(owner, `${topic}/${p}: exactly one member`).toHaveLength(1);
      if (!ownerOf.has(p)) ownerOf.set(p, owner![0]!);
      expect(owner![0], `${topic}/${p}: the member owning partition ${p} of every topic`).toBe(
        ownerOf.get(p),
      );
    }
    expect(
      [...owners.keys()].sort((a, b) => a - b),
      `${topic}: only its own partitions`,
    ).toEqual(Array.from({ length: partitions }, (_, p) => p));
  }
  const byOwner = new Map<string, number[]>([...byMember.keys()].map((m) => [m, []]));
  for (const [p, member] of ownerOf) byOwner.get(member)!.push(p);
  const sizes = [...byOwner.values()].map((ps) => ps.length);
  expect(Math.max(...sizes) - Math.min(...sizes), `an even spread: ${sizes.join('/')}`).toBeLessThanOrEqual(
    1,
  );
  return byOwner;
}

const TOPICS = ['clicks', 'views', 'events'];

describe('copartitionedAssigner', () => {
  it('is a protocol of its own, whose metadata lists the topics', () => {
    const assigner = assignerOver({});
    expect([assigner.name, assigner.version]).toEqual(['LiftstreamCopartitioned', 1]);
    const protocol = assigner.protocol({ topics: TOPICS });
    expect(protocol.name).toBe('LiftstreamCopartitioned');
    expect(AssignerProtocol.MemberMetadata.decode(protocol.metadata)).toEqual({
      version: 1,
      topics: TOPICS,
      userData: Buffer.alloc(0),
    });
  });

  it('3 members, 8 partitions: partition p of every topic to one member, 3/3/2, dealt in member id order', async () => {
    const assigner = assignerOver({ clicks: 8, views: 8, events: 8 });
    const byMember = await assignments(assigner, ['member-c', 'member-a', 'member-b'], TOPICS);

    const byOwner = checkCopartitioned(byMember, TOPICS, 8);

    expect([...byMember.keys()], 'one assignment per member').toEqual(['member-a', 'member-b', 'member-c']);
    expect([...byOwner].map(([m, ps]) => [m, ps.length])).toEqual([
      ['member-a', 3],
      ['member-b', 3],
      ['member-c', 2],
    ]);
    expect(byMember.get('member-a')).toEqual({ clicks: [0, 3, 6], views: [0, 3, 6], events: [0, 3, 6] });
    expect(byMember.get('member-b')).toEqual({ clicks: [1, 4, 7], views: [1, 4, 7], events: [1, 4, 7] });
    expect(byMember.get('member-c')).toEqual({ clicks: [2, 5], views: [2, 5], events: [2, 5] });
  });

  it('the same members in any order get the same assignment', async () => {
    const assigner = assignerOver({ clicks: 8, views: 8 });
    const first = await assignments(assigner, ['b', 'c', 'a'], ['clicks', 'views']);
    const second = await assignments(assigner, ['a', 'b', 'c'], ['clicks', 'views']);
    expect(Object.fromEntries(first)).toEqual(Object.fromEntries(second));
  });

  it.each([
    { members: 1, partitions: 1 },
    { members: 1, partitions: 6 },
    { members: 2, partitions: 5 },
    { members: 4, partitions: 4 },
    { members: 4, partitions: 10 },
    { members: 5, partitions: 12 },
    { members: 7, partitions: 30 },
  ])('$members members, $partitions partitions: co-partitioned and even', async ({ members, partitions }) => {
    const assigner = assignerOver({ clicks: partitions, views: partitions, events: partitions });
    const ids = Array.from({ length: members }, (_, i) => `consumer-${i}-${(i * 7919) % 13}`);
    checkCopartitioned(await assignments(assigner, ids, TOPICS), TOPICS, partitions);
  });

  it('more members than partitions: the extra members get an empty assignment', async () => {
    const assigner = assignerOver({ clicks: 2, views: 2 });
    const byMember = await assignments(assigner, ['m1', 'm2', 'm3'], ['clicks', 'views']);
    checkCopartitioned(byMember, ['clicks', 'views'], 2);
    expect(Object.fromEntries(byMember)).toEqual({
      m1: { clicks: [0], views: [0] },
      m2: { clicks: [1], views: [1] },
      m3: {},
    });
  });
});
