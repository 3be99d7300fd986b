// An independent CID reference: the JavaScript UnixFS importer (the one Helia and js-ipfs use)
// configured as Kubo's `ipfs add --cid-version=1` is: 256 KiB fixed chunks, raw leaves, balanced
// layout with 174 links per node, a single leaf reduced to itself. Used by the tests to check
// core/cid.py on multi-block files without a Kubo binary. Usage: node scripts/js-cid.mjs FILE...
import { createReadStream } from 'node:fs'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'

// The CID is all we want: blocks are hashed by the importer and dropped here.
const discard = { put: async (cid) => cid, get: async () => { throw new Error('write-only') }, has: async () => false }

for (const path of process.argv.slice(2)) {
  const options = {
    cidVersion: 1,
    rawLeaves: true,
    chunker: fixedSize({ chunkSize: 262144 }),
    layout: balanced({ maxChildrenPerNode: 174 }),
    reduceSingleLeafToSelf: true,
    wrapWithDirectory: false,
  }
  for await (const entry of importer([{ content: createReadStream(path) }], discard, options)) {
    console.log(`${entry.cid.toString()} ${path}`)
  }
}
