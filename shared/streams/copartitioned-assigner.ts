import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/**
 * A group assigner for co-partitioned sources (a topology whose tasks are per partition): partition
 * p of every subscribed topic goes to the same member, so one member owns task p whole. Partition
 * numbers are dealt round-robin over the members sorted by id. Only this protocol is offered: a
 * member of a build that assigns topics independently cannot join the same group, so two owners
 * of one task's store can never coexist.
 */
export const copartitionedAssigner: PartitionAssigner = ({ cluster }) => {
  const name = 'LiftstreamCopartitioned';
  const version = 1;
  return {
    name,
    version,
    async assign({ members, topics }) {
      const sorted = [...members].sort((a, b) => a.memberId.localeCompare(b.memberId));
      const numbers = new Set<number>();
      const partitionsOf = new Map<string, number[]>();
      for (const topic of topics) {
        const ids = cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId);
        partitionsOf.set(topic, ids);
        for (const id of ids) numbers.add(id);
      }
      const owner = new Map<number, number>();
      [...numbers].sort((a, b) => a - b).forEach((p, i) => owner.set(p, i % Math.max(1, sorted.length)));
      return sorted.map((member, index) => {
        const assignment: Record<string, number[]> = {};
        for (const [topic, ids] of partitionsOf) {
          const mine = ids.filter((p) => owner.get(p) === index);
          if (mine.length > 0) assignment[topic] = mine;
        }
        return {
          memberId: member.memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version,
            assignment,
            userData: Buffer.alloc(0),
          }),
        };
      });
    },
    protocol({ topics }) {
      return {
        name,
        metadata: AssignerProtocol.MemberMetadata.encode({ version, topics, userData: Buffer.alloc(0) }),
      };
    },
  };
};
