#!/usr/bin/env node
// The npm package simple-hl7 as an MLLP server on 127.0.0.1, port 0 (or argv[2]): parses each
// message and answers the AA its TcpServer builds (MSA-2 = MSH-10); stores nothing.
'use strict'
const { announce } = require('./loopback.js')
const hl7 = require('simple-hl7')

const port = Number(process.argv[2] || 0)
const server = hl7.Server.createTcpServer((err, req, res) => {
  if (err) {
    process.stderr.write(`simple-hl7: ${err.message}\n`)
    return
  }
  res.end()
})
server.start(port)
server.server.on('listening', () => announce('simple-hl7', server.server))
