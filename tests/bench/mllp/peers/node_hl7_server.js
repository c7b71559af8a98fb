#!/usr/bin/env node
// The npm package node-hl7-server as an MLLP server on 127.0.0.1, port 0 (or argv[2]): parses
// each message and answers AA with the ACK it builds (MSA-2 = MSH-10); stores nothing.
// Known: version 2.5.0 never clears its per-connection buffer after a message, so the second
// and later messages on one connection are answered with the first one's MSA-2.
'use strict'
const { announce } = require('./loopback.js')
const { Server } = require('node-hl7-server')

const port = Number(process.argv[2] || 0)
const server = new Server({ bindAddress: '127.0.0.1' })
const inbound = server.createInbound({ port }, async (req, res) => {
  await res.sendResponse('AA')
})
inbound.on('listen', () => announce('node-hl7-server', inbound._socket))
inbound.on('data.error', (err) => process.stderr.write(`node-hl7-server: ${err.message}\n`))
