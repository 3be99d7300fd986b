// Root and proofs of OpenZeppelin's StandardMerkleTree (npm @openzeppelin/merkle-tree) for the
// values on stdin (JSON: [[line, lineHash, amount], ...], numbers as decimal strings); prints
// {"root": ..., "proofs": [[...], ...]} for tests/python/economy/test_statements_merkle.py.
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");

let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const values = JSON.parse(input);
  const tree = StandardMerkleTree.of(values, ["uint256", "bytes32", "uint256"]);
  const proofs = values.map((_, i) => tree.getProof(i));
  process.stdout.write(JSON.stringify({ root: tree.root, proofs }));
});
