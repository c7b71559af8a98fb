#!/usr/bin/env node
// Sends HL7 v2 messages to HOST:PORT over MLLP with the npm package node-hl7-client (an MLLP
// client nobody on this project wrote), all on one connection, stop-and-wait: each message is
// sent only once the ACK of the one before has arrived. For every ACK it prints one line,
// "MSA-1 MSA-2" (e.g. "AA EDSYS0001").
//
//   node send_node.js HOST:PORT FILE...     one message per file; line ends become \r
//
// Exit status: 0 every ACK came and was AA or CA; 1 a refusal (AE/AR/CE/CR), no ACK within
// the time-out, or a connection failure; 2 usage.
'use strict'

const fs = require('node:fs')
const { Client, Message } = require('node-hl7-client')

const ACK_TIMEOUT_MS = 10000

function fail (text, status = 1) {
  process.stderr.write(`send_node: ${text}\n`)
  process.exit(status)
}

const [target, ...files] = process.argv.slice(2)
const match = /^(.+):(\d{1,5})$/.exec(target || '')
if (match === null || files.length === 0) fail('usage: node send_node.js HOST:PORT FILE...', 2)
const host = match[1]
const port = Number(match[2])

const messages = files.map((file) => {
  const text = fs.readFileSync(file, 'latin1').replace(/\r\n|\n/g, '\r').replace(/\r+$/, '')
  if (!text.startsWith('MSH')) fail(`${file}: not an HL7 v2 message (no MSH at the start)`)
  return text
})

// The library calls the handler for each ACK it reads; the waiting send takes it from here.
let waiting = null
const client = new Client({ host, maxConnectionAttempts: 1, maxAttempts: 2, connectionTimeout: ACK_TIMEOUT_MS })
const outbound = client.createOutbound({ port, waitAck: true }, async (response) => {
  let reply
  try {
    // node-hl7-client 1.1.3 cannot read a message whose last segment ends in \r, which every
    // segment of an HL7 v2 message does: re-read its text without that last \r.
    const ack = new Message({ text: response.getMessage().toString().replace(/\r+$/, '') })
    reply = { code: ack.get('MSA.1').toString(), controlId: ack.get('MSA.2').toString() }
  } catch (err) {
    fail(`an unreadable ACK: ${err.message}`)
  }
  if (waiting !== null) {
    const resolve = waiting
    waiting = null
    resolve(reply)
  } else {
    process.stderr.write(`send_node: an ACK nobody waited for: ${reply.code} ${reply.controlId}\n`)
  }
})
outbound.on('error', (err) => fail(`connection to ${target} failed${err ? ': ' + err.message : ''}`))
outbound.on('timeout', () => fail(`connection to ${target} timed out`))

function connected () {
  return new Promise((resolve) => {
    outbound.once('client.connect', () => resolve())
  })
}

async function main () {
  await connected()
  let refused = 0
  for (const text of messages) {
    // The library unrefs its socket: this timer is also what keeps node running until the ACK.
    let timer
    const ack = new Promise((resolve, reject) => {
      waiting = resolve
      timer = setTimeout(() => reject(new Error(`no ACK within ${ACK_TIMEOUT_MS} ms`)), ACK_TIMEOUT_MS)
    }).finally(() => clearTimeout(timer))
    await outbound.sendMessage(new Message({ text }))
    const reply = await ack
    process.stdout.write(`${reply.code} ${reply.controlId}\n`)
    if (reply.code !== 'AA' && reply.code !== 'CA') ++refused
  }
  await outbound.close()
  process.exit(refused === 0 ? 0 : 1)
}

main().catch((err) => fail(err.message))
