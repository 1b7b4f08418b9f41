// The slot function ioredis itself routes cluster commands with.
declare module 'cluster-key-slot' {
  export default function calculateSlot(key: string | Buffer): number;
}
