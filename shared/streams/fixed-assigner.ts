import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/**
 * A partition assigner that hands exactly `assignment` to the group's (single) member: kafkajs
 * has no manual `assign()`, so a consumer with a private group id and this assigner is how one
 * reads chosen partitions, as a restore consumer must. With several members (never, for a private
 * group) the first gets everything.
 */
export function fixedAssigner(assignment: Record<string, number[]>): PartitionAssigner {
  const name = 'LiftstreamFixedAssigner';
  const version = 1;
  return () => ({
    name,
    version,
    async assign({ members }) {
      return members.map((member, index) => ({
        memberId: member.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version,
          assignment: index === 0 ? assignment : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name,
        metadata: AssignerProtocol.MemberMetadata.encode({ version, topics, userData: Buffer.alloc(0) }),
      };
    },
  });
}
