// A dApp developer's flows with @solana/web3.js and @solana/spl-token, unchanged, against
// `braid node`.
// Usage: node flows.mjs <phase: before|after> <http url> <ws url> <state file>
//        node flows.mjs network <http url> <ws url> <unused> <other validators' http urls...>
// "before" funds a payer and transfers; "after" (run against the restarted node) checks
// that everything confirmed survived, and goes on transacting. Any failure throws, and
// the process exits non-zero with the reason.
import {
  AddressLookupTableProgram,
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  PublicKey,
  SystemProgram,
  Transaction,
  TransactionInstruction,
  TransactionMessage,
  VersionedTransaction,
  sendAndConfirmTransaction,
} from "@solana/web3.js";
import {
  createMint,
  getAccount,
  getMint,
  getOrCreateAssociatedTokenAccount,
  mintTo,
  transferChecked,
} from "@solana/spl-token";
import { readFileSync, writeFileSync } from "node:fs";
import assert from "node:assert/strict";

const [phase, httpUrl, wsUrl, stateFile, ...otherUrls] = process.argv.slice(2);
const connection = new Connection(httpUrl, { commitment: "confirmed", wsEndpoint: wsUrl });

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Waits until the node has acknowledged the `count` subscriptions made since `earlier` (the
// keys of web3.js's private subscription table, whose shape the pinned version fixes), so
// the change they wait for cannot come first: after a reconnect no fixed pause is enough.
async function acknowledged(earlier, count) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const states = Object.entries(connection._subscriptionsByHash)
      .filter(([hash]) => !earlier.has(hash))
      .map(([, subscription]) => subscription.state);
    if (states.length >= count && states.every((state) => state === "subscribed")) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`subscriptions not acknowledged within 15000 ms: ${states.join(", ")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
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
  const identity = await connection._rpcRequest("getIdentity", []);
  assert.equal(new PublicKey(identity.result.identity).toBase58(), identity.result.identity);
  const epoch = await connection.getEpochInfo();
  assert.equal(typeof epoch.absoluteSlot, "number");
  assert.equal(typeof (await connection.getBlockHeight()), "number");
  assert.equal(await connection.getMinimumBalanceForRentExemption(0), 890_880);
  assert.equal(await connection.getMinimumBalanceForRentExemption(165), 2_039_280);
  // Blocks: hashes chain, and a block lists its transactions' signatures.
  let slots = await connection.getBlocks(0);
  for (let waited = 0; slots.length === 0; waited += 100) {
    assert.ok(waited < 15_000, "no block was committed");
    await new Promise((resolve) => setTimeout(resolve, 100));
    slots = await connection.getBlocks(0);
  }
  const newest = slots[slots.length - 1];
  const block = await connection.getBlock(newest, { transactionDetails: "none", rewards: false });
  assert.equal(block.parentSlot, newest - 1);
  if (slots.length > 1) {
    const parent = await connection.getBlock(newest - 1, { transactionDetails: "none", rewards: false });
    assert.equal(block.previousBlockhash, parent.blockhash);
  }
  // web3.js has no wrapper for getBlocksWithLimit: the raw request.
  const limited = await connection._rpcRequest("getBlocksWithLimit", [newest, 1]);
  assert.deepEqual(limited.result, [newest]);

  // Sysvars at Solana's addresses, in Solana's layouts.
  const clock = await connection.getAccountInfo(new PublicKey("SysvarC1ock11111111111111111111111111111111"));
  assert.equal(clock.data.length, 40);
  assert.ok(clock.owner.equals(new PublicKey("Sysvar1111111111111111111111111111111111111")));
  const unixTimestamp = Number(clock.data.readBigInt64LE(32));
  assert.ok(Math.abs(unixTimestamp - Date.now() / 1000) < 60, `${unixTimestamp}`);
  const rent = await connection.getAccountInfo(new PublicKey("SysvarRent111111111111111111111111111111111"));
  assert.equal(rent.data.readBigUInt64LE(0), 3480n);

  const payer = Keypair.generate();
  const recipient = Keypair.generate().publicKey;
  await airdrop(payer.publicKey, 2 * LAMPORTS_PER_SOL);
  assert.equal(await connection.getBalance(payer.publicKey), 2 * LAMPORTS_PER_SOL);

  // sendAndConfirmTransaction: getLatestBlockhash, sendTransaction with preflight, then
  // signatureSubscribe + getSignatureStatuses.
  const signature = await transfer(payer, recipient, LAMPORTS_PER_SOL / 2);
  assert.equal(typeof signature, "string");
  const transferSlot = (await connection.getSignatureStatuses([signature])).value[0].slot;
  const transferBlock = await connection.getBlockSignatures(transferSlot);
  assert.ok(transferBlock.signatures.includes(signature));
  assert.equal(await connection.getBalance(recipient), LAMPORTS_PER_SOL / 2);
  const fee = 2 * LAMPORTS_PER_SOL - LAMPORTS_PER_SOL / 2 - (await connection.getBalance(payer.publicKey));
  assert.equal(fee, 5_000);
  // The same transfer twice: web3.js will not re-sign over a blockhash it already used for
  // this signature, and waits for a new one.
  const extra = Keypair.generate().publicKey;
  await transfer(payer, extra, 1_000_000);
  await transfer(payer, extra, 1_000_000);
  assert.equal(await connection.getBalance(extra), 2_000_000);
  // Slots and blockhashes move on an idle node, as on a validator: web3.js refreshes a
  // blockhash older than 30 s by waiting for a different one.
  const before = await connection.getLatestBlockhashAndContext();
  let after = before;
  for (let waited = 0; after.context.slot < before.context.slot + 2; waited += 100) {
    assert.ok(waited < 15_000, `the slot stood at ${after.context.slot} on an idle node`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    after = await connection.getLatestBlockhashAndContext();
  }
  assert.notEqual(after.value.blockhash, before.value.blockhash);

  const [payerInfo, recipientInfo, missing] = await connection.getMultipleAccountsInfo([
    payer.publicKey,
    recipient,
    Keypair.generate().publicKey,
  ]);
  assert.ok(payerInfo.owner.equals(SystemProgram.programId));
  assert.equal(recipientInfo.lamports, LAMPORTS_PER_SOL / 2);
  assert.equal(missing, null);

  // What a transfer would cost, priced from its message alone.
  const { blockhash } = await connection.getLatestBlockhash();
  const priced = new Transaction({ feePayer: payer.publicKey, recentBlockhash: blockhash }).add(
    SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: recipient, lamports: 1 }),
  );
  assert.equal((await connection.getFeeForMessage(priced.compileMessage())).value, 5_000);
  const supply = (await connection.getSupply()).value;
  assert.ok(supply.total >= 2 * LAMPORTS_PER_SOL && supply.circulating === supply.total);
  const largest = (await connection.getLargestAccounts()).value;
  assert.ok(largest.length > 0 && largest[0].lamports >= largest[largest.length - 1].lamports);

  const owned = await connection.getProgramAccounts(SystemProgram.programId, {
    filters: [{ dataSize: 0 }],
  });
  const keys = owned.map(({ pubkey }) => pubkey.toBase58());
  assert.ok(keys.includes(payer.publicKey.toBase58()) && keys.includes(recipient.toBase58()));

  // accountSubscribe and slotSubscribe notifications.
  const earlier = new Set(Object.keys(connection._subscriptionsByHash));
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
  // logsSubscribe (mentions) and programSubscribe (with a filter).
  const logged = new Promise((resolve) => {
    const id = connection.onLogs(recipient, (logs, context) => {
      connection.removeOnLogsListener(id);
      resolve({ ...logs, slot: context.slot });
    });
  });
  const programChanged = new Promise((resolve) => {
    const id = connection.onProgramAccountChange(
      SystemProgram.programId,
      (info) => {
        if (info.accountId.equals(recipient)) {
          connection.removeProgramAccountChangeListener(id);
          resolve(info.accountInfo.lamports);
        }
      },
      "confirmed",
      [{ dataSize: 0 }],
    );
  });
  await acknowledged(earlier, 4);
  const signed = await transfer(payer, recipient, 1_000);
  const notified = await withTimeout(changed, 15_000, "accountNotification");
  assert.equal(notified.lamports, LAMPORTS_PER_SOL / 2 + 1_000);
  const slotInfo = await withTimeout(slot, 15_000, "slotNotification");
  assert.equal(slotInfo.parent, slotInfo.slot - 1);
  const logs = await withTimeout(logged, 15_000, "logsNotification");
  assert.equal(logs.signature, signed);
  assert.equal(logs.err, null);
  assert.ok(logs.logs.includes("Program 11111111111111111111111111111111 invoke [1]"), logs.logs.join("\n"));
  assert.equal(await withTimeout(programChanged, 15_000, "programNotification"), LAMPORTS_PER_SOL / 2 + 1_000);

  // A memo, as wallets attach them (Memo program v2, signed by the payer).
  const memo = new TransactionInstruction({
    programId: new PublicKey("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"),
    keys: [{ pubkey: payer.publicKey, isSigner: true, isWritable: false }],
    data: Buffer.from("thanks for the coffee", "utf8"),
  });
  const memoTx = new Transaction().add(
    SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: recipient, lamports: 3 }),
    memo,
  );
  const simulated = await connection.simulateTransaction(memoTx, [payer]);
  assert.ok(
    simulated.value.logs.includes('Program log: Memo (len 21): "thanks for the coffee"'),
    simulated.value.logs.join("\n"),
  );
  const memoSignature = await sendAndConfirmTransaction(connection, memoTx, [payer]);

  // A v0 transaction that loads its recipient from an address lookup table.
  const recentSlot = await connection.getSlot();
  const [createTable, tableAddress] = AddressLookupTableProgram.createLookupTable({
    authority: payer.publicKey,
    payer: payer.publicKey,
    recentSlot,
  });
  const v0Recipient = Keypair.generate().publicKey;
  const extendTable = AddressLookupTableProgram.extendLookupTable({
    lookupTable: tableAddress,
    authority: payer.publicKey,
    payer: payer.publicKey,
    addresses: [v0Recipient],
  });
  await sendAndConfirmTransaction(connection, new Transaction().add(createTable, extendTable), [payer]);
  // Confirmed means its slot is done: the addresses are usable from the next.
  const lookupTable = (await connection.getAddressLookupTable(tableAddress)).value;
  assert.ok(lookupTable.isActive());
  assert.deepEqual(lookupTable.state.addresses.map((key) => key.toBase58()), [v0Recipient.toBase58()]);
  assert.ok(lookupTable.state.authority.equals(payer.publicKey));
  const v0Hash = await connection.getLatestBlockhash();
  const v0Message = new TransactionMessage({
    payerKey: payer.publicKey,
    recentBlockhash: v0Hash.blockhash,
    instructions: [SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: v0Recipient, lamports: 1_000_000 })],
  }).compileToV0Message([lookupTable]);
  assert.equal(v0Message.addressTableLookups.length, 1);
  assert.equal((await connection.getFeeForMessage(v0Message)).value, 5_000);
  const v0Tx = new VersionedTransaction(v0Message);
  v0Tx.sign([payer]);
  const v0Signature = await connection.sendTransaction(v0Tx);
  const v0Result = await connection.confirmTransaction({ signature: v0Signature, ...v0Hash });
  assert.equal(v0Result.value.err, null);
  assert.equal(await connection.getBalance(v0Recipient), 1_000_000);

  // A transaction that would fail is refused by preflight with its logs.
  await assert.rejects(transfer(payer, recipient, 100 * LAMPORTS_PER_SOL), (error) => {
    assert.match(error.message, /simulation failed/i);
    return true;
  });

  // SPL Token through @solana/spl-token's helpers: a mint, associated token accounts
  // (the Associated Token Account program), minting and a checked transfer.
  const mint = await createMint(connection, payer, payer.publicKey, null, 6);
  assert.equal((await getMint(connection, mint)).decimals, 6);
  const owner = Keypair.generate();
  const source = await getOrCreateAssociatedTokenAccount(connection, payer, mint, payer.publicKey);
  const destination = await getOrCreateAssociatedTokenAccount(connection, payer, mint, owner.publicKey);
  // Asking again finds the account rather than creating another.
  const again = await getOrCreateAssociatedTokenAccount(connection, payer, mint, owner.publicKey);
  assert.ok(again.address.equals(destination.address));
  await mintTo(connection, payer, mint, source.address, payer, 5_000_000n);
  const moved = await transferChecked(connection, payer, source.address, mint, destination.address, payer, 1_250_000n, 6);
  assert.equal((await getAccount(connection, destination.address)).amount, 1_250_000n);
  assert.equal((await getAccount(connection, source.address)).amount, 3_750_000n);
  const balance = (await connection.getTokenAccountBalance(destination.address)).value;
  assert.deepEqual(
    { amount: balance.amount, decimals: balance.decimals, ui: balance.uiAmountString },
    { amount: "1250000", decimals: 6, ui: "1.25" },
  );
  assert.equal((await connection.getTokenSupply(mint)).value.amount, "5000000");
  // jsonParsed, as wallets read token accounts.
  const parsed = (await connection.getParsedAccountInfo(destination.address)).value.data;
  assert.equal(parsed.program, "spl-token");
  assert.equal(parsed.parsed.type, "account");
  assert.equal(parsed.parsed.info.tokenAmount.uiAmountString, "1.25");
  assert.equal(parsed.parsed.info.owner, owner.publicKey.toBase58());
  const parsedMint = (await connection.getParsedAccountInfo(mint)).value.data.parsed;
  assert.deepEqual(parsedMint.info.supply, "5000000");
  const byOwner = await connection.getParsedTokenAccountsByOwner(owner.publicKey, { mint });
  assert.equal(byOwner.value[0].account.data.parsed.info.tokenAmount.amount, "1250000");
  const held = await connection.getTokenAccountsByOwner(owner.publicKey, { mint });
  assert.equal(held.value.length, 1);
  assert.ok(held.value[0].pubkey.equals(destination.address));
  const holders = await connection.getProgramAccounts(new PublicKey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"), {
    filters: [{ dataSize: 165 }, { memcmp: { offset: 0, bytes: mint.toBase58() } }],
  });
  assert.equal(holders.length, 2);

  writeFileSync(
    stateFile,
    JSON.stringify({
      payer: Array.from(payer.secretKey),
      recipient: recipient.toBase58(),
      recipientLamports: LAMPORTS_PER_SOL / 2 + 1_000 + 3,
      transfer: { signature, slot: transferSlot, blockhash: transferBlock.blockhash },
      memoSignature,
      moved,
      v0Signature,
      v0Recipient: v0Recipient.toBase58(),
      mint: mint.toBase58(),
      owner: Array.from(owner.secretKey),
      destination: destination.address.toBase58(),
    }),
  );
}

async function after() {
  const state = JSON.parse(readFileSync(stateFile, "utf8"));
  const payer = Keypair.fromSecretKey(Uint8Array.from(state.payer));
  const recipient = new PublicKey(state.recipient);
  assert.equal(await connection.getBalance(recipient), state.recipientLamports);
  // The block of the first transfer, read back from the ledger after the restart.
  const block = await connection.getBlockSignatures(state.transfer.slot);
  assert.equal(block.blockhash, state.transfer.blockhash);
  assert.ok(block.signatures.includes(state.transfer.signature));
  // Transaction history, read back from the ledger after the restart.
  const sent = await connection.getTransaction(state.transfer.signature, { maxSupportedTransactionVersion: 0 });
  assert.equal(sent.slot, state.transfer.slot);
  assert.equal(sent.version, "legacy");
  assert.equal(sent.meta.err, null);
  assert.equal(sent.meta.fee, 5_000);
  assert.equal(typeof sent.blockTime, "number");
  const keys = sent.transaction.message.staticAccountKeys.map((key) => key.toBase58());
  const at = keys.indexOf(state.recipient);
  assert.equal(sent.meta.postBalances[at] - sent.meta.preBalances[at], LAMPORTS_PER_SOL / 2);
  assert.ok(sent.meta.logMessages.includes("Program 11111111111111111111111111111111 success"));
  const history = await connection.getSignaturesForAddress(recipient);
  assert.ok(history.some((entry) => entry.signature === state.transfer.signature));
  const memoEntry = history.find((entry) => entry.signature === state.memoSignature);
  assert.equal(memoEntry.memo, "[21] thanks for the coffee");
  assert.equal(memoEntry.err, null);
  const newest = await connection.getSignaturesForAddress(recipient, { limit: 1 });
  assert.equal(newest.length, 1);
  assert.equal(newest[0].signature, history[0].signature);
  const parsed = await connection.getParsedTransaction(state.moved, { maxSupportedTransactionVersion: 0 });
  const received = parsed.meta.postTokenBalances.find((entry) => entry.owner !== parsed.transaction.message.accountKeys[0].pubkey.toBase58());
  assert.equal(received.uiTokenAmount.uiAmountString, "1.25");
  assert.equal(received.mint, state.mint);
  // The v0 transaction, with the address it loaded.
  const v0 = await connection.getTransaction(state.v0Signature, { maxSupportedTransactionVersion: 0 });
  assert.equal(v0.version, 0);
  assert.equal(v0.meta.err, null);
  assert.deepEqual(v0.meta.loadedAddresses.writable.map((key) => key.toBase58()), [state.v0Recipient]);
  assert.equal(v0.transaction.message.addressTableLookups.length, 1);
  const v0Keys = v0.transaction.message.getAccountKeys({ accountKeysFromLookups: v0.meta.loadedAddresses });
  const v0At = v0Keys.staticAccountKeys.length; // the first loaded writable address
  assert.equal(v0.meta.postBalances[v0At] - v0.meta.preBalances[v0At], 1_000_000);
  // A client that does not say it reads v0 is told so, not handed a shape it misreads.
  await assert.rejects(connection.getTransaction(state.v0Signature), /not supported/);
  const fullBlock = await connection.getBlock(state.transfer.slot, { maxSupportedTransactionVersion: 0 });
  assert.ok(fullBlock.transactions.some((tx) => tx.transaction.signatures[0] === state.transfer.signature));
  await transfer(payer, recipient, 7);
  assert.equal(await connection.getBalance(recipient), state.recipientLamports + 7);
  // Token balances survived too, and the owner can spend them.
  const mint = new PublicKey(state.mint);
  const owner = Keypair.fromSecretKey(Uint8Array.from(state.owner));
  const destination = new PublicKey(state.destination);
  assert.equal((await getAccount(connection, destination)).amount, 1_250_000n);
  const back = await getOrCreateAssociatedTokenAccount(connection, payer, mint, payer.publicKey);
  await transferChecked(connection, payer, destination, mint, back.address, owner, 250_000n, 6);
  assert.equal((await getAccount(connection, destination)).amount, 1_000_000n);
}

// One validator of several: what a client sends it is finalized by the network, and every
// other validator reads the same balances and the same block.
async function network() {
  const finalized = new Connection(httpUrl, { commitment: "finalized", wsEndpoint: wsUrl });
  const payer = Keypair.generate();
  const recipient = Keypair.generate().publicKey;
  const signature = await finalized.requestAirdrop(payer.publicKey, 2 * LAMPORTS_PER_SOL);
  const latest = await finalized.getLatestBlockhash();
  const airdropped = await withTimeout(
    finalized.confirmTransaction({ signature, ...latest }, "finalized"),
    60_000,
    "airdrop finalized",
  );
  assert.equal(airdropped.value.err, null);
  const tx = new Transaction().add(
    SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: recipient, lamports: LAMPORTS_PER_SOL }),
  );
  const sent = await withTimeout(
    sendAndConfirmTransaction(finalized, tx, [payer], { commitment: "finalized" }),
    60_000,
    "transfer finalized",
  );
  const status = (await finalized.getSignatureStatuses([sent])).value[0];
  assert.equal(status.confirmationStatus, "finalized");
  const block = await finalized.getBlock(status.slot, { maxSupportedTransactionVersion: 0 });
  assert.ok(block.transactions.some((entry) => entry.transaction.signatures[0] === sent));
  for (const url of otherUrls) {
    const other = new Connection(url, "finalized");
    // The other validator may be a slot behind: wait until it has the transfer's slot.
    for (let tries = 0; (await other.getSlot()) < status.slot; tries++) {
      assert.ok(tries < 100, `${url} did not reach slot ${status.slot}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(await other.getBalance(recipient), LAMPORTS_PER_SOL);
    const theirs = await other.getBlock(status.slot, { maxSupportedTransactionVersion: 0 });
    assert.equal(theirs.blockhash, block.blockhash);
    assert.equal(theirs.previousBlockhash, block.previousBlockhash);
  }
}

try {
  if (phase === "before") await before();
  else if (phase === "after") await after();
  else if (phase === "network") await network();
  else throw new Error(`unknown phase ${phase}`);
  console.log(`${phase}: ok`);
  process.exit(0);
} catch (error) {
  console.error(`${phase}: ${error.stack ?? error}`);
  process.exit(1);
}
