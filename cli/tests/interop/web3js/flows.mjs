// A dApp developer's flows with @solana/web3.js, unchanged, against `braid node`.
// Usage: node flows.mjs <phase: before|after> <http url> <ws url> <state file>
// "before" funds a payer and transfers; "after" (run against the restarted node) checks
// that everything confirmed survived, and goes on transacting. Any failure throws, and
// the process exits non-zero with the reason.
import {
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  PublicKey,
  SystemProgram,
  Transaction,
  sendAndConfirmTransaction,
} from "@solana/web3.js";
import { readFileSync, writeFileSync } from "node:fs";
import assert from "node:assert/strict";

const [phase, httpUrl, wsUrl, stateFile] = process.argv.slice(2);
const connection = new Connection(httpUrl, { commitment: "confirmed", wsEndpoint: wsUrl });

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function airdrop(to, lamports) {
  const signature = await connection.requestAirdrop(to, lamports);
  const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash();
  // Confirmed through signatureSubscribe on the WebSocket.
  const result = await connection.confirmTransaction({ signature, blockhash, lastValidBlockHeight });
  assert.equal(result.value.err, null);
  return signature;
}

async function transfer(from, to, lamports) {
  const tx = new Transaction().add(
    SystemProgram.transfer({ fromPubkey: from.publicKey, toPubkey: to, lamports }),
  );
  return sendAndConfirmTransaction(connection, tx, [from]);
}

async function before() {
  const version = await connection.getVersion();
  assert.match(version["solana-core"], /^braid /);
  assert.equal(typeof (await connection.getGenesisHash()), "string");
  const epoch = await connection.getEpochInfo();
  assert.equal(typeof epoch.absoluteSlot, "number");
  assert.equal(typeof (await connection.getBlockHeight()), "number");
  assert.equal(await connection.getMinimumBalanceForRentExemption(0), 890_880);
  assert.equal(await connection.getMinimumBalanceForRentExemption(165), 2_039_280);

  const payer = Keypair.generate();
  const recipient = Keypair.generate().publicKey;
  await airdrop(payer.publicKey, 2 * LAMPORTS_PER_SOL);
  assert.equal(await connection.getBalance(payer.publicKey), 2 * LAMPORTS_PER_SOL);

  // sendAndConfirmTransaction: getLatestBlockhash, sendTransaction with preflight, then
  // signatureSubscribe + getSignatureStatuses.
  const signature = await transfer(payer, recipient, LAMPORTS_PER_SOL / 2);
  assert.equal(typeof signature, "string");
  assert.equal(await connection.getBalance(recipient), LAMPORTS_PER_SOL / 2);
  const fee = 2 * LAMPORTS_PER_SOL - LAMPORTS_PER_SOL / 2 - (await connection.getBalance(payer.publicKey));
  assert.equal(fee, 5_000);

  const [payerInfo, recipientInfo, missing] = await connection.getMultipleAccountsInfo([
    payer.publicKey,
    recipient,
    Keypair.generate().publicKey,
  ]);
  assert.ok(payerInfo.owner.equals(SystemProgram.programId));
  assert.equal(recipientInfo.lamports, LAMPORTS_PER_SOL / 2);
  assert.equal(missing, null);

  const owned = await connection.getProgramAccounts(SystemProgram.programId, {
    filters: [{ dataSize: 0 }],
  });
  const keys = owned.map(({ pubkey }) => pubkey.toBase58());
  assert.ok(keys.includes(payer.publicKey.toBase58()) && keys.includes(recipient.toBase58()));

  // accountSubscribe and slotSubscribe notifications.
  const changed = new Promise((resolve) => {
    const id = connection.onAccountChange(recipient, (info, context) => {
      connection.removeAccountChangeListener(id);
      resolve({ lamports: info.lamports, slot: context.slot });
    });
  });
  const slot = new Promise((resolve) => {
    const id = connection.onSlotChange((info) => {
      connection.removeSlotChangeListener(id);
      resolve(info);
    });
  });
  // Give the subscriptions a moment to register before the change they wait for.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await transfer(payer, recipient, 1_000);
  const notified = await withTimeout(changed, 15_000, "accountNotification");
  assert.equal(notified.lamports, LAMPORTS_PER_SOL / 2 + 1_000);
  const slotInfo = await withTimeout(slot, 15_000, "slotNotification");
  assert.equal(slotInfo.parent, slotInfo.slot - 1);

  // A transaction that would fail is refused by preflight with its logs.
  await assert.rejects(transfer(payer, recipient, 100 * LAMPORTS_PER_SOL), (error) => {
    assert.match(error.message, /simulation failed/i);
    return true;
  });

  writeFileSync(
    stateFile,
    JSON.stringify({
      payer: Array.from(payer.secretKey),
      recipient: recipient.toBase58(),
      recipientLamports: LAMPORTS_PER_SOL / 2 + 1_000,
    }),
  );
}

async function after() {
  const state = JSON.parse(readFileSync(stateFile, "utf8"));
  const payer = Keypair.fromSecretKey(Uint8Array.from(state.payer));
  const recipient = new PublicKey(state.recipient);
  assert.equal(await connection.getBalance(recipient), state.recipientLamports);
  await transfer(payer, recipient, 7);
  assert.equal(await connection.getBalance(recipient), state.recipientLamports + 7);
}

try {
  if (phase === "before") await before();
  else if (phase === "after") await after();
  else throw new Error(`unknown phase ${phase}`);
  console.log(`${phase}: ok`);
  process.exit(0);
} catch (error) {
  console.error(`${phase}: ${error.stack ?? error}`);
  process.exit(1);
}
