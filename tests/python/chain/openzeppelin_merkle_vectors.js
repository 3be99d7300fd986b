// Prints the vectors of openzeppelin_merkle_vectors.jsonl: `npm install @openzeppelin/merkle-tree` in a scratch
// folder (the project does not depend on it), then `node openzeppelin_merkle_vectors.js`.
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const cid = (i) => "0x01551220" + i.toString(16).padStart(2, "0").repeat(32);
for (const n of [1, 2, 3, 5]) {
  const values = [];
  for (let i = 1; i <= n; i++) values.push([String(i * 7), cid(i)]);
  const t = StandardMerkleTree.of(values, ["uint256", "bytes"]);
  const proofs = {};
  for (const [i, v] of t.entries()) proofs[v[0]] = t.getProof(i);
  console.log(JSON.stringify({ n, root: t.root, proofs }));
}
